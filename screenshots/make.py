"""Regenerate the console screenshots in screenshots/ from the fixed sample incident (seed 7).

    .venv/bin/python screenshots/make.py
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from warroom.playbook.catalog import load_catalog  # noqa: E402
from warroom.tui import sample  # noqa: E402
from warroom.tui.app import ConsoleApp  # noqa: E402
from warroom.tui.statusbar import Target  # noqa: E402

TARGET = Target(region="us-east-1", account="123456789012", endpoint="http://127.0.0.1:4566")
SHOTS = (("console-160x48.svg", (160, 48), ("n", "n")), ("console-80x24.svg", (80, 24), ("n", "n")),
         ("help-80x24.svg", (80, 24), ("question_mark",)))
WIZARD_SHOTS = (("wizard-120x40.svg", (120, 40)), ("wizard-80x24.svg", (80, 24)))


async def shoot(name: str, size: tuple[int, int], keys: tuple[str, ...]) -> None:
    app = ConsoleApp(sample.store(load_catalog(), seed=7), TARGET, timers=False)
    async with app.run_test(size=size) as pilot:
        app.pump()
        await pilot.pause()
        app.main.tick()
        await pilot.press(*keys)
        await pilot.pause()
        app.save_screenshot(name, path=str(ROOT / "screenshots"))
    print(f"screenshots/{name}")


async def shoot_wizard(name: str, size: tuple[int, int]) -> None:
    """The fix wizard on lambda-timeout against a local moto server, at its y/N confirm."""
    import os

    from warroom.aws.session import AwsOptions, AwsSession
    from warroom.demo.server import OFFLINE_ENV, MotoServer
    from warroom.incident.store import IncidentStore
    from warroom.tui.confirm import ConfirmModal
    from warroom.tui.wizard import WizardScreen

    os.environ.update(OFFLINE_ENV)
    with MotoServer() as server:
        _seed_function(server.endpoint, "bos-dev-agent-persona")
        catalog = load_catalog()
        session = AwsSession(AwsOptions(endpoint_url=server.endpoint, region="us-east-1"))
        app = ConsoleApp(IncidentStore(catalog), TARGET, session=session, timers=False)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            app.push_screen(WizardScreen(catalog.get("lambda-timeout"), session, resource="bos-dev-agent-persona"))
            for _ in range(500):  # bounded: the diagnose call, then the first question
                if type(app.screen).__name__ == "AskModal":
                    break
                await pilot.pause(0.02)
            await pilot.press("enter")
            for _ in range(500):
                if isinstance(app.screen, ConfirmModal):
                    break
                await pilot.pause(0.02)
            await pilot.pause()
            app.save_screenshot(name, path=str(ROOT / "screenshots"))
            await pilot.press("n")
    print(f"screenshots/{name}")


def _seed_function(endpoint: str, name: str) -> None:
    import io
    import zipfile

    import boto3

    def client(service: str):  # type: ignore[no-untyped-def]
        return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")

    role = client("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    client("lambda").create_function(FunctionName=name, Runtime="python3.12", Role=role,
                                     Handler="handler.handler", Code={"ZipFile": code.getvalue()}, Timeout=3)


def main() -> None:
    for name, size, keys in SHOTS:
        asyncio.run(shoot(name, size, keys))
    for name, size in WIZARD_SHOTS:
        asyncio.run(shoot_wizard(name, size))


if __name__ == "__main__":
    main()
