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


def main() -> None:
    for name, size, keys in SHOTS:
        asyncio.run(shoot(name, size, keys))


if __name__ == "__main__":
    main()
