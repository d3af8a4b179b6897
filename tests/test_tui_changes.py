"""The console's suspects and Changes view, and a revert through the wizard, against moto's server."""

from __future__ import annotations

import functools
import io
import time
import zipfile
from pathlib import Path
from typing import Any

import boto3

from tests.runner_support import playbook, session
from tests.test_tui_wizard import audit_records, finished, modal
from tests.tui_helpers import screen_text, until
from warroom.demo.server import MotoServer
from warroom.incident.records import Finding
from warroom.incident.store import IncidentStore
from warroom.tui.app import ConsoleApp
from warroom.tui.changes_view import ChangesScreen
from warroom.tui.confirm import ConfirmModal
from warroom.tui.messages import PlaybookChosen
from warroom.tui.statusbar import Target
from warroom.tui.wizard import start_fix

FN = "bos-dev-agent-persona"


def deployed(endpoint: str) -> None:
    """A function created at 60 s, then lowered to 30 s by `deployer`."""
    def client(service: str, **keys: str) -> Any:
        return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", **keys)
    role = client("iam").create_role(RoleName=f"{FN}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    client("lambda").create_function(FunctionName=FN, Runtime="python3.12", Role=role, Handler="handler.handler",
                                     Code={"ZipFile": code.getvalue()}, Timeout=60)
    client("iam").create_user(UserName="deployer")
    key = client("iam").create_access_key(UserName="deployer")["AccessKey"]
    client("lambda", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]) \
        .update_function_configuration(FunctionName=FN, Timeout=30)


def console(endpoint: str, audit: Path) -> ConsoleApp:
    store = IncidentStore([playbook("lambda-timeout")])
    store.add_findings([Finding("lambda-timeout", FN, "function", "Task timed out after 30.03 seconds",
                                int(time.time() * 1000) + 1000, "log")])
    hook = functools.partial(start_fix, audit_log=str(audit), watch_seconds=0.0, watch_interval=0.0,
                             poll_interval=0.05)
    return ConsoleApp(store, Target(region="us-east-1"), session=session(endpoint), timers=False, fix_hook=hook)


async def test_the_deploy_is_the_top_suspect_and_is_put_back(moto: MotoServer, tmp_path: Path) -> None:
    deployed(moto.endpoint)
    audit = tmp_path / "audit.jsonl"
    app = console(moto.endpoint, audit)
    async with app.run_test(size=(160, 48)) as pilot:
        app.main.post_message(PlaybookChosen("lambda-timeout", FN, {}, "Task timed out", resource_kind="function"))
        shown = await until(pilot, lambda: app.main.guidance.shown and app.main.guidance.shown.suspects,
                            "the suspects")
        assert shown[0].change.event == "UpdateFunctionConfiguration" and shown[0].direct
        await pilot.pause()
        text = screen_text(app)
        assert "Suspects" in text and "UpdateFunctionConfiguration by deployer: Timeout 60 -> 30" in text
        app.main.guidance.focus()
        await pilot.press("r")
        confirm = await modal(pilot, ConfirmModal)
        assert confirm.plan.params == {"FunctionName": FN, "Timeout": 60}
        await pilot.press("y")
        screen = await finished(pilot)
        assert screen.result is not None and screen.result.fix[0].status == "done"
    lam = boto3.client("lambda", endpoint_url=moto.endpoint, region_name="us-east-1")
    assert lam.get_function_configuration(FunctionName=FN)["Timeout"] == 60
    kinds = [r["kind"] for r in audit_records(audit)]
    assert "intent" in kinds and "outcome" in kinds and "verify" in kinds


async def test_the_changes_view_puts_findings_on_the_timeline(moto: MotoServer, tmp_path: Path) -> None:
    deployed(moto.endpoint)
    app = console(moto.endpoint, tmp_path / "audit.jsonl")
    async with app.run_test(size=(120, 40)) as pilot:
        app.main.logs.focus()
        await pilot.press("C")
        view = await until(pilot, lambda: isinstance(app.screen, ChangesScreen) and app.screen, "the view")
        await until(pilot, lambda: len(view.rows) >= 3, "the timeline")
        await pilot.pause()
        labels = [r.change.event if r.change else r.finding for r in view.rows]
        assert labels.index("UpdateFunctionConfiguration") < labels.index(f"lambda-timeout on {FN}")
        text = screen_text(app)
        assert "▲ first lambda-timeout on bos-dev-agent-persona" in text
        assert "UpdateFunctionConfiguration bos-dev-agent-persona by deployer: Timeout 60 -> 30" in text
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.main, "the main screen")
        [command] = [c for c in app.get_system_commands(app.main) if c.title == "Changes"]
        command.callback()
        await until(pilot, lambda: isinstance(app.screen, ChangesScreen), "the view from the palette")
