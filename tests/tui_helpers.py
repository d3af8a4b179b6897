"""Shared pieces of the console tests: the catalog, a sample app and screen text."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from textual.app import App
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets._toast import Toast

from warroom.playbook.catalog import Catalog, load_catalog
from warroom.tui import sample
from warroom.tui.app import ConsoleApp
from warroom.tui.statusbar import Target

DEADLINE = 20.0  # s: a bound on waiting for a worker or the server, never a sleep
TARGET = Target(region="us-east-1", account="123456789012", endpoint="http://127.0.0.1:4566")


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    return load_catalog()


def sample_app(count: int = 400, seed: int = 7, capacity: int = 100_000, **kwargs) -> ConsoleApp:  # type: ignore[no-untyped-def]
    """The console on the fixed sample incident, with timers off (tests call `pump`)."""
    store = sample.store(catalog(), seed=seed, count=count, capacity=capacity)
    return ConsoleApp(store, TARGET, timers=False, **kwargs)


def row_text(app: ConsoleApp, y: int) -> str:
    return "".join(seg.text for seg in app.main.logs.render_line(y))


def screen_rows(app: ConsoleApp) -> list[str]:
    logs = app.main.logs
    return [row_text(app, y) for y in range(logs.scrollable_content_region.height)]


def screen_text(app: App) -> str:  # type: ignore[type-arg]
    """Every character on screen, a line per row (read back from the SVG export)."""
    rows: dict[str, list[str]] = {}
    for row, text in re.findall(r'<text [^>]*clip-path="url\(#[\w-]*-line-(\d+)\)"[^>]*>(.*?)</text>',
                                app.export_screenshot()):
        rows.setdefault(row, []).append(html.unescape(text).replace("\xa0", " "))
    return "\n".join("".join(parts) for _, parts in sorted(rows.items(), key=lambda kv: int(kv[0])))


async def until(pilot: Pilot[Any], condition: Callable[[], Any], what: str) -> Any:
    """Poll `condition` while the app runs, up to a deadline."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def toasts(app: App) -> list[str]:  # type: ignore[type-arg]
    """What each notification on screen renders, checked to carry no style from markup.

    Needs `run_test(notifications=True)`: Pilot runs hide them by default.
    """
    shown = []
    for toast in app.screen.query(Toast):
        content = toast.render()
        assert isinstance(content, Content) and not content.spans
        shown.append(content.plain)
    return shown
