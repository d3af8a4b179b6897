"""Shared pieces of the console tests: the catalog, a sample app and screen text."""

from __future__ import annotations

from functools import lru_cache

from warroom.playbook.catalog import Catalog, load_catalog
from warroom.tui import sample
from warroom.tui.app import ConsoleApp
from warroom.tui.statusbar import Target

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
