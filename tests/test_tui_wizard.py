"""The fix wizard (Textual) over the runner, driven with Pilot against the moto server.

Update the snapshot after an intended change with
`pytest tests/test_tui_wizard.py --snapshot-update`.
"""

from __future__ import annotations

import functools
import json
import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.runner_support import (
    boto, function_timeout, lock_exists, playbook, seed_function, seed_lock, session)
from tests.tui_helpers import screen_text, toasts, until
from warroom.incident.records import Record
from warroom.incident.store import IncidentStore
from warroom.playbook.matcher import Matcher
from warroom.tui.app import ConsoleApp
from warroom.tui.confirm import (
    AskModal, ConfirmModal, FailureModal, ManualModal, QuitModal, TypedModal)
from warroom.tui.messages import FixRequested
from warroom.tui.statusbar import Target
from warroom.tui.wizard import WizardScreen, start_fix

FN = "bos-dev-agent-persona"
SECRET = "ghp_Wiz4rdT0kenNeverShown9"


def wizard_app(endpoint: str, pids: list[str], audit: Path, *, read_only: bool = False,
               max_attempts: int = 5, **options: Any) -> ConsoleApp:
    store = IncidentStore([playbook(p) for p in pids])
    hook = functools.partial(start_fix, audit_log=str(audit), watch_seconds=0.0, watch_interval=0.0,
                             poll_interval=0.05, **options)
    return ConsoleApp(store, Target(region="us-east-1", read_only=read_only),
                      session=session(endpoint, max_attempts=max_attempts), timers=False,
                      fix_hook=hook)


def wizard(app: ConsoleApp) -> WizardScreen:
    return next(s for s in app.screen_stack if isinstance(s, WizardScreen))


async def modal(pilot: Pilot[Any], kind: type) -> Any:
    """The next question of that kind, once it is on screen."""
    app = pilot.app
    found = await until(pilot, lambda: isinstance(app.screen, kind) and app.screen.is_mounted
                        and app.screen, kind.__name__)
    await pilot.pause()
    return found


async def start(pilot: Pilot[Any], pid: str, resource: str, params: dict[str, str] | None = None) -> WizardScreen:
    pilot.app.post_message(FixRequested(pid, resource, params or {}))
    return await until(pilot, lambda: any(isinstance(s, WizardScreen) for s in pilot.app.screen_stack)
                       and wizard(pilot.app), "the wizard")  # type: ignore[arg-type]


async def finished(pilot: Pilot[Any]) -> WizardScreen:
    screen = wizard(pilot.app)  # type: ignore[arg-type]
    await until(pilot, lambda: screen.settled, "the end of the run and its watch")
    await pilot.pause()
    return screen


def audit_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def log_text(screen: WizardScreen) -> str:
    from textual.widgets import RichLog

    return "\n".join(line.text for line in screen.query_one("#wz-log", RichLog).lines)


async def test_lambda_timeout_fix_raises_the_timeout(moto: Any, tmp_path: Path) -> None:
    seed_function(moto.endpoint, FN, timeout=3)
    audit = tmp_path / "audit.jsonl"
    app = wizard_app(moto.endpoint, ["lambda-timeout"], audit)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start(pilot, "lambda-timeout", FN, {"function": FN})
        ask = await modal(pilot, AskModal)
        assert ask.spec.name == "new_timeout"
        # The diagnose result is on screen before the first question.
        assert "Timeout: 3" in log_text(screen)
        box = ask.query_one(Input)
        box.value = ""
        await pilot.press("1", "2", "0", "enter")
        confirm = await modal(pilot, ConfirmModal)
        assert confirm.plan.params == {"FunctionName": FN, "Timeout": 120}
        assert "aws lambda update-function-configuration" in (confirm.plan.cli or "")
        text = screen_text(app)
        assert "update-function-configuration" in text and "Run this step?" in text
        assert function_timeout(moto.endpoint, FN) == 3  # nothing before the y
        await pilot.press("y")
        await modal(pilot, ManualModal)
        assert function_timeout(moto.endpoint, FN) == 120
        assert screen.status[("fix", 1)] == "done"
        await pilot.press("y")
        await modal(pilot, ManualModal)
        await pilot.press("n")
        await finished(pilot)
        assert screen.status[("fix", 2)] == "done" and screen.status[("fix", 3)] == "skipped"
        assert screen.watch_outcome is not None and "did not recur" in screen.watch_outcome
        assert "did not recur" in screen_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, WizardScreen), "back to the console")
    kinds = [(r["kind"], r.get("status")) for r in audit_records(audit)]
    assert ("intent", None) in kinds and ("outcome", "ok") in kinds and ("verify", "ok") in kinds


async def test_watch_reports_a_recurrence_from_the_store(moto: Any, tmp_path: Path) -> None:
    seed_function(moto.endpoint, FN, timeout=3)
    app = wizard_app(moto.endpoint, ["lambda-timeout"], tmp_path / "audit.jsonl")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start(pilot, "lambda-timeout", FN, {"function": FN})
        await modal(pilot, AskModal)
        await pilot.press("enter")           # the default, 60 s
        await modal(pilot, ConfirmModal)
        # The symptom shows up again after the fix: an hour ahead, however slowly the steps run.
        now = int(time.time() * 1000) + 3_600_000
        line = "2024-05-01T10:15:32.123Z 3f9c Task timed out after 60.00 seconds"
        matches = Matcher([playbook("lambda-timeout")]).match(line, f"/aws/lambda/{FN}")
        assert matches
        app.store.push([Record("logs", f"/aws/lambda/{FN}", "s", now, "e1", line, matches=matches)])
        app.store.drain()
        await pilot.press("y")
        for answer in ("y", "y"):
            await modal(pilot, ManualModal)
            await pilot.press(answer)
        await finished(pilot)
        assert function_timeout(moto.endpoint, FN) == 60
        assert screen.watch_outcome is not None and "came back" in screen.watch_outcome


async def test_lock_is_deleted_only_after_its_key_is_typed(moto: Any, tmp_path: Path) -> None:
    seed_lock(moto.endpoint)
    audit = tmp_path / "audit.jsonl"
    app = wizard_app(moto.endpoint, ["test-lock-stuck"], audit)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start(pilot, "test-lock-stuck", "test-locks", {"lock_id": "worker-7"})
        typed = await modal(pilot, TypedModal)
        assert typed.expected == "worker-7"
        assert "Destructive. Type worker-7 to confirm:" in screen_text(app)
        assert "host-1" in log_text(screen)          # what the diagnose found
        await pilot.press(*"worker", "enter")        # not the name: nothing is deleted
        await finished(pilot)
        assert lock_exists(moto.endpoint)
        assert screen.status[("fix", 1)] == "skipped"
        await pilot.press("escape")
        screen = await start(pilot, "test-lock-stuck", "test-locks", {"lock_id": "worker-7"})
        await modal(pilot, TypedModal)
        assert lock_exists(moto.endpoint)
        await pilot.press(*"worker-7", "enter")
        await finished(pilot)
        assert screen.status[("fix", 1)] == "done"
        assert not lock_exists(moto.endpoint)
    kinds = [r["kind"] for r in audit_records(audit)]
    assert "declined" in kinds and "intent" in kinds


async def test_q_while_a_fix_runs_asks_before_quitting(moto: Any, tmp_path: Path) -> None:
    seed_function(moto.endpoint, FN, timeout=3)
    app = wizard_app(moto.endpoint, ["lambda-timeout"], tmp_path / "audit.jsonl")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start(pilot, "lambda-timeout", FN, {"function": FN})
        await modal(pilot, AskModal)
        await pilot.press("enter")
        await modal(pilot, ConfirmModal)
        await pilot.press("q")
        await modal(pilot, QuitModal)
        assert "A fix is running: lambda-timeout. Quit anyway?" in screen_text(app)
        await pilot.press("n")                       # stay: back to the step's question
        await modal(pilot, ConfirmModal)
        assert app.return_code is None and not screen.finished
        await pilot.press("q")
        await modal(pilot, QuitModal)
        await pilot.press("y")
        await until(pilot, lambda: app.return_code == 0, "the console to quit")
    assert function_timeout(moto.endpoint, FN) == 3  # the unconfirmed step never ran


async def test_the_keys_the_confirm_box_shows_are_the_keys_that_work(moto: Any, tmp_path: Path) -> None:
    seed_function(moto.endpoint, FN, timeout=3)
    app = wizard_app(moto.endpoint, ["lambda-timeout"], tmp_path / "audit.jsonl")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = await start(pilot, "lambda-timeout", FN, {"function": FN})
        await modal(pilot, AskModal)
        await pilot.press("enter")
        confirm = await modal(pilot, ConfirmModal)
        footer = screen_text(app).splitlines()[-1]
        for key in ("y Run it", "n/N Skip", "e Edit", "c Copy CLI", "q Quit"):
            assert key in footer, key
        assert "N  skip" in screen_text(app)             # the button says N...
        await pilot.press("c")                           # c copies while the box is open
        assert app.clipboard == confirm.plan.cli and "update-function-configuration" in app.clipboard
        assert "copied the CLI command to the clipboard (OSC 52)" in toasts(app)
        await pilot.press("N")                           # ...and N skips
        for _ in range(2):
            await modal(pilot, ManualModal)
            await pilot.press("N")
        await finished(pilot)
        assert screen.status[("fix", 1)] == "skipped" and function_timeout(moto.endpoint, FN) == 3
        await pilot.press("q")                           # done: q is back to the console at once
        await until(pilot, lambda: app.screen is app.main, "back to the console")
        assert app.is_running


async def test_q_in_the_wizard_asks_while_the_watch_runs_then_goes_back(moto: Any, tmp_path: Path) -> None:
    seed_function(moto.endpoint, FN, timeout=3)
    store = IncidentStore([playbook("lambda-timeout")])
    hook = functools.partial(start_fix, audit_log=str(tmp_path / "audit.jsonl"), watch_seconds=600.0,
                             watch_interval=0.05, poll_interval=0.05)
    app = ConsoleApp(store, Target(region="us-east-1"), session=session(moto.endpoint),
                     timers=False, fix_hook=hook)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start(pilot, "lambda-timeout", FN, {"function": FN})
        await modal(pilot, AskModal)
        await pilot.press("enter")
        await modal(pilot, ConfirmModal)
        await pilot.press("y")
        for _ in range(2):
            await modal(pilot, ManualModal)
            await pilot.press("y")
        await until(pilot, lambda: screen.finished and "watching" in screen.state, "the watch")
        await pilot.press("q")
        await modal(pilot, QuitModal)
        assert "Watching the symptom after lambda-timeout. Leave the fix wizard anyway?" in screen_text(app)
        await pilot.press("n")                           # stay: the watch goes on
        await until(pilot, lambda: app.screen is screen, "the wizard again")
        assert not screen.settled
        await pilot.press("escape")
        await modal(pilot, QuitModal)
        await pilot.press("y")
        await until(pilot, lambda: app.screen is app.main, "back to the console")
        assert app.is_running and app.return_code is None


async def test_read_only_refuses_before_any_prompt(moto: Any, tmp_path: Path) -> None:
    seed_function(moto.endpoint, FN, timeout=3)
    audit = tmp_path / "audit.jsonl"
    app = wizard_app(moto.endpoint, ["lambda-timeout"], audit, read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start(pilot, "lambda-timeout", FN, {"function": FN})
        await modal(pilot, ManualModal)              # the first question: a manual step
        assert screen.status[("fix", 1)] == "refused"
        assert "REFUSED (read-only)" in log_text(screen)
        assert "READ-ONLY" in screen_text(app)
        for _ in range(2):
            await pilot.press("n")
            if len([s for s in app.screen_stack if isinstance(s, ManualModal)]) == 0 and screen.finished:
                break
            await modal(pilot, ManualModal)
        await finished(pilot)
        assert "refused" in screen.state
    assert function_timeout(moto.endpoint, FN) == 3
    assert any(r["kind"] == "refused" for r in audit_records(audit))
    assert not any(r["kind"] == "intent" for r in audit_records(audit))


async def test_a_failed_call_is_shown_failed_and_audited(moto: Any, tmp_path: Path) -> None:
    seed_lock(moto.endpoint)
    audit = tmp_path / "audit.jsonl"
    # One attempt: the injected 500 is not retried away (nor waited for).
    app = wizard_app(moto.endpoint, ["test-lock-stuck"], audit, max_attempts=1)
    async with app.run_test(size=(120, 40)) as pilot:
        moto.faults(error=1.0, targets=["DynamoDB_20120810.DeleteItem"])
        screen = await start(pilot, "test-lock-stuck", "test-locks", {"lock_id": "worker-7"})
        await modal(pilot, TypedModal)
        await pilot.press(*"worker-7", "enter")
        failure = await modal(pilot, FailureModal)
        assert failure.error.phase == "call" and failure.error.message
        assert screen.status[("fix", 1)] == "failed"
        assert "failed" in screen_text(app)
        await pilot.press("a")
        await finished(pilot)
        assert screen.result is not None and screen.result.aborted
        assert screen.status[("fix", 1)] in ("failed", "aborted")
        assert "✗" in screen_text(app)
    assert lock_exists(moto.endpoint)
    records = audit_records(audit)
    intent = [r for r in records if r["kind"] == "intent"]
    outcome = [r for r in records if r["kind"] == "outcome"]
    assert intent and intent[0]["call"] == "dynamodb.delete_item"
    assert outcome and outcome[0]["status"] == "failed" and outcome[0]["error"]


async def test_a_typed_secret_never_appears_on_screen_or_in_the_audit(moto: Any, tmp_path: Path) -> None:
    boto(moto.endpoint, "secretsmanager").create_secret(Name="test/github-token")
    audit = tmp_path / "audit.jsonl"
    app = wizard_app(moto.endpoint, ["test-secret-put"], audit)
    seen: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start(pilot, "test-secret-put", "test/github-token")
        ask = await modal(pilot, AskModal)
        assert ask.query_one(Input).password
        await pilot.press(*SECRET)
        seen.append(screen_text(app))
        await pilot.press("enter")
        await modal(pilot, ConfirmModal)
        seen.append(screen_text(app))
        await pilot.press("y")
        await modal(pilot, ManualModal)
        seen.append(screen_text(app))
        await pilot.press("y")
        await finished(pilot)
        assert screen.status[("fix", 1)] == "done"
        seen.append(screen_text(app))
        seen.append(log_text(screen))
    stored = boto(moto.endpoint, "secretsmanager").get_secret_value(SecretId="test/github-token")
    assert SECRET in stored["SecretString"]          # it reached AWS...
    for text in seen:                                # ...and nothing else
        assert SECRET not in text
    assert audit.exists() and SECRET not in audit.read_text()


async def test_colon_fix_opens_the_wizard(moto: Any, tmp_path: Path) -> None:
    seed_lock(moto.endpoint)
    app = wizard_app(moto.endpoint, ["test-lock-stuck"], tmp_path / "audit.jsonl")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("colon", *"fix test-lock-stuck test-locks", "enter")
        screen = await until(pilot, lambda: any(isinstance(s, WizardScreen) for s in app.screen_stack)
                             and wizard(app), "the wizard")
        assert screen.resource == "test-locks"
        ask = await modal(pilot, AskModal)           # the lock key is not known: asked
        assert ask.spec.name == "lock_id"
        await pilot.press("escape")                  # cancel: the run stops
        await until(pilot, lambda: screen.finished, "the end of the run")
    assert lock_exists(moto.endpoint)


@pytest.mark.parametrize("size", [(80, 24)])
def test_wizard_snapshot_80x24(snap_compare: Any, size: tuple[int, int]) -> None:
    """The wizard asking for a secret, before any call (no server needed: nothing is called)."""
    from warroom.aws.session import AwsOptions, AwsSession

    store = IncidentStore([playbook("test-secret-put")])
    sess = AwsSession(AwsOptions(endpoint_url="http://127.0.0.1:4566", region="us-east-1"))

    def hook(app: ConsoleApp, event: FixRequested) -> None:
        app.push_screen(WizardScreen(store.playbooks[event.playbook], sess, resource=event.resource))

    app = ConsoleApp(store, Target(region="us-east-1"), session=sess, timers=False, fix_hook=hook)

    async def run(pilot: Pilot[Any]) -> None:
        await start(pilot, "test-secret-put", "test/github-token")
        await modal(pilot, AskModal)

    assert snap_compare(app, terminal_size=size, run_before=run)
