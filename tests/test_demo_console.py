"""`warroom demo` opens the console first (issue 12): the status bar says the simulated
account is starting, findings arrive once it is up, and quitting during start-up leaves
no process. Real moto server, real seeding, real sources."""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
import time
from collections.abc import Iterator

import pytest

from tests.demo_helpers import alive, children_of, reap
from tests.tui_helpers import screen_text
from warroom import config
from warroom.commands.demo import demo_console
from warroom.demo.launcher import SOURCE, DemoWorld
from warroom.demo.server import OFFLINE_ENV
from warroom.tui.app import ConsoleApp
from warroom.tui.statusbar import StatusBar

BOUND = 90.0  # s: a bound against hanging (a real seeding and check round), not a speed check


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[int]]:
    """Dummy credentials, as `warroom demo` sets them; yields the children there were before."""
    for key, value in OFFLINE_ENV.items():
        monkeypatch.setenv(key, value)
    before = children_of(os.getpid())
    yield before
    reap(children_of(os.getpid()) - before)


def gated(demo: DemoWorld) -> threading.Event:
    """Hold the seeding until the test sets the event: the account is not up before then."""
    release = threading.Event()
    seed = demo.seed_world

    def seed_when_released(changes: bool = True) -> None:
        release.wait(BOUND)
        seed(changes=changes)
    demo.seed_world = seed_when_released  # type: ignore[method-assign]
    return release


def status(app: ConsoleApp) -> str:
    return str(app.main.query_one(StatusBar).render())


async def wait_for(pilot: object, condition: object, what: str) -> None:
    end = time.monotonic() + BOUND
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < end, f"timed out waiting for {what}"
        await pilot.pause(0.05)  # type: ignore[attr-defined]


def app_for(demo: DemoWorld) -> ConsoleApp:
    return demo_console(argparse.Namespace(settings=config.Settings(), region="us-east-1",
                                           demo_world=True), demo)


async def test_the_console_says_the_account_is_starting_then_shows_findings(offline: set[int]) -> None:
    demo = DemoWorld(seed=0, rate=20)
    release = gated(demo)
    app = app_for(demo)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_for(pilot, lambda: "seeding the simulated account" in status(app), "the start-up said")
            # The frame is up, the account is not: no source reads it yet, nothing is found.
            assert app.store.sources[SOURCE].connection == "starting" and not app.store.address
            assert set(app.store.sources) == {SOURCE} and not app.store.findings
            assert "◌ simulated account: seeding the simulated account at http://127.0.0.1:" in status(app)
            release.set()
            await wait_for(pilot, lambda: any(f.playbook in screen_text(app)
                                              for f in app.store.findings.values()), "the first findings")
            assert app.store.address == demo.endpoint and app.settings is not None
            assert app.settings.endpoint_url == demo.endpoint
            assert {name for name, _ in app._sourced.values()} == {"log tail", "health check"}
            assert "seeding" not in status(app)
    finally:
        release.set()
        demo.stop()
    await gone(offline)


async def gone(before: set[int]) -> None:
    """Every child the console started ends (its sources' threads stop them on the way out)."""
    end = time.monotonic() + BOUND
    while any(alive(pid) for pid in children_of(os.getpid()) - before):
        assert time.monotonic() < end, "a child of the demo outlived the quit"
        await asyncio.sleep(0.05)


async def test_quitting_during_start_up_leaves_no_process(offline: set[int]) -> None:
    demo = DemoWorld(seed=0, rate=20)
    release = gated(demo)  # never set: the account never comes up
    app = app_for(demo)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: "seeding the simulated account" in status(app), "the start-up said")
        server = demo.server.process
        assert server is not None and alive(server.pid)
        await pilot.press("q")
    # The quit alone stops the start-up's children (the command's own `demo.stop()` is not called).
    await gone(offline)
    assert not alive(server.pid)
    release.set()
