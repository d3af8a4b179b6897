"""The console application: timers that move data from the store to the screen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

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

    def on_mount(self) -> None:
        self.push_screen(self.main)
        if self.timers:
            self.set_interval(DRAIN_INTERVAL, self.drain)
            self.set_interval(TICK_INTERVAL, self.tick)
        for feed in self.feeds:
            self.run_worker(self._run_feed(feed), group="feeds", exit_on_error=False)
        self.call_after_refresh(self.pump)

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
        if self.session is not None:
            await self.session.aclose()
