"""The console application: timers that move data from the store to the screen."""

from __future__ import annotations

import gc
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from textual import events
from textual.app import App
from textual.binding import Binding

from warroom.incident.store import IncidentStore
from warroom.playbook.catalog import data_dir
from warroom.tui.main_screen import MainScreen
from warroom.tui.messages import FixRequested
from warroom.tui.palette import ConsoleCommands
from warroom.tui.statusbar import Target

if TYPE_CHECKING:
    from warroom.aws.session import AwsSession

Feed = Callable[[IncidentStore], Awaitable[None]]
FixHook = Callable[["ConsoleApp", FixRequested], None]

DRAIN_INTERVAL = 0.1   # s: batches of records reach the logs pane 10 times a second
TICK_INTERVAL = 1.0    # s: counters, health, findings, sparklines
DRAIN_LIMIT = 50_000   # records moved per drain, so one burst cannot stall the UI
GC_YOUNG = 10_000       # allocations between young collections (Python's default: 700)
FULL_GC_EVERY = 60.0    # s at least between the full garbage collections the live console runs,
FULL_GC_IDLE = 2.0      # when no key has been pressed for this long,
FULL_GC_LATEST = 300.0  # or after this long in any case


class ConsoleApp(App[None]):
    """warroom's console over one incident store, fed by any number of sources."""

    TITLE = "warroom"
    CSS_PATH = [str(data_dir("styles") / "console.tcss")]
    COMMANDS = App.COMMANDS | {ConsoleCommands}
    BINDINGS = [Binding("q", "quit", "Quit")]

    def __init__(self, store: IncidentStore, target: Target, *,
                 session: AwsSession | None = None, feeds: Sequence[Feed] = (),
                 fix_hook: FixHook | None = None, timers: bool = True) -> None:
        super().__init__()
        self.store = store
        self.target = target
        self.session = session
        self.feeds = list(feeds)
        self.fix_hook = fix_hook
        self.timers = timers
        self.main = MainScreen(store, target, session)
        self._gc_threshold: tuple[int, int, int] | None = None
        self._full_gc_at = 0.0
        self._input_at = 0.0

    def on_mount(self) -> None:
        self.push_screen(self.main)
        if self.timers:
            self.set_interval(DRAIN_INTERVAL, self.drain)
            self.set_interval(TICK_INTERVAL, self.tick)
        for feed in self.feeds:
            self.run_worker(self._run_feed(feed), group="feeds", exit_on_error=False)
        if self.feeds and self.timers:
            self.call_after_refresh(self._schedule_gc)
        self.call_after_refresh(self.pump)

    def _schedule_gc(self) -> None:
        """Take full garbage collections off Python's automatic schedule.

        A full collection walks every live object: with the ring full (100k records and
        their matches) that is 150-400 ms with the GIL held, and at thousands of events/s
        Python starts one every few seconds (records pour into the oldest generation),
        each a frozen screen. So: the objects that live as long as the console (modules,
        styles, playbooks) are frozen out of collections; the full ones run from `tick`,
        at most once a minute and when the keyboard has been quiet for a moment (every
        five minutes regardless); and young collections run every GC_YOUNG allocations
        rather than 700, so that the strips a frame renders (Textual's caches make them
        reference cycles) are collected young instead of piling up for the full one.
        """
        if self._gc_threshold is not None:
            return
        gc.collect()
        gc.freeze()
        self._gc_threshold = gc.get_threshold()
        _, middle, _ = self._gc_threshold
        gc.set_threshold(GC_YOUNG, middle, 1 << 30)
        self._full_gc_at = time.monotonic()

    async def _run_feed(self, feed: Feed) -> None:
        from warroom.aws.session import explain

        try:
            await feed(self.store)
        except Exception as exc:  # noqa: BLE001 - shown in the status bar, the UI keeps going
            self.store.source_failed(explain(exc, self.session.options if self.session else None))

    def drain(self) -> None:
        """Move queued records into the ring and show them (10 Hz)."""
        seqs = self.store.drain(DRAIN_LIMIT)
        if seqs or self.store.ring.first:
            self.main.ingest(seqs)

    def tick(self) -> None:
        self.store.tick()
        self.main.tick()
        if self._gc_threshold is not None:
            now = time.monotonic()
            since = now - self._full_gc_at
            if since >= FULL_GC_LATEST or (since >= FULL_GC_EVERY and now - self._input_at >= FULL_GC_IDLE):
                gc.collect()
                self._full_gc_at = time.monotonic()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self._input_at = time.monotonic()
        await super().on_event(event)

    def pump(self) -> None:
        """Drain and tick at once (tests and timer-less runs call this)."""
        self.drain()
        self.main.tick()

    def on_fix_requested(self, event: FixRequested) -> None:
        if self.fix_hook is not None:
            self.fix_hook(self, event)
            return
        self.notify(f"the fix wizard for {event.playbook} is not built yet; "
                    f"see `warroom playbooks show {event.playbook}`", timeout=5)

    async def on_unmount(self) -> None:
        if self._gc_threshold is not None:
            gc.set_threshold(*self._gc_threshold)
            gc.unfreeze()
            self._gc_threshold = None
        if self.session is not None:
            await self.session.aclose()
