"""The console application: timers that move data from the sources to the store and the screen.

Sources run on threads of their own and post events into `inbox`; `drain`, on the UI
thread, is the only place they reach the store.
"""

from __future__ import annotations

import dataclasses
import gc
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel

from warroom.incident import source_events as ev
from warroom.incident.store import IncidentStore
from warroom.playbook.catalog import data_dir
from warroom.tui.main_screen import MainScreen
from warroom.tui.messages import FixRequested
from warroom.tui.palette import ConsoleCommands
from warroom.tui.source_thread import Feed, run_on_thread
from warroom.tui.statusbar import Target
from warroom.tui.tail_commands import TailCommands

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.worker import Worker

    from warroom.aws.session import AwsSession
    from warroom.config import Settings
    from warroom.tui.sources import Sources

FixHook = Callable[["ConsoleApp", FixRequested], None]

DRAIN_INTERVAL = 0.1   # s: batches of records reach the logs pane 10 times a second
TICK_INTERVAL = 1.0    # s: counters, health, findings, sparklines
DRAIN_LIMIT = 50_000   # records moved per drain, so one burst cannot stall the UI
GC_YOUNG = 10_000       # allocations between young collections (Python's default: 700)
FULL_GC_EVERY = 10.0    # s at least between the full garbage collections the live console runs,
FULL_GC_IDLE = 2.0      # when no key has been pressed for this long,
FULL_GC_LATEST = 20.0   # or after this long in any case: Textual's cyclic garbage grows ~0.5 MB/s


class ConsoleApp(App[None]):
    """warroom's console over one incident store, fed by any number of sources."""

    TITLE = "warroom"
    CSS_PATH = [str(data_dir("styles") / "console.tcss")]
    COMMANDS = App.COMMANDS | {ConsoleCommands}
    BINDINGS = [Binding("q", "quit", "Quit")]

    def __init__(self, store: IncidentStore, target: Target, *,
                 session: AwsSession | None = None, feeds: Sequence[Feed] = (),
                 fix_hook: FixHook | None = None, timers: bool = True,
                 settings: Settings | None = None, sources: Sources | None = None,
                 read_only_flag: bool = False, startup: Feed | None = None,
                 load_sources: Callable[[], Sources] | None = None) -> None:
        super().__init__()
        self.store = store
        self.inbox = ev.Inbox()  # every source posts here; `drain` applies it to the store
        self.target = target
        self.session = session
        self.feeds = list(feeds)
        # With `sources`, the feeds follow `settings`: `:scope`, `:region` and `:profile` change them.
        self.settings = settings
        self.sources = sources
        # A source that brings the account up first (the demo's): `sources` start at its Ready.
        self.startup = startup
        # `sources` made after the first frame (the playbooks take a moment to load).
        self.load_sources = load_sources
        self._ready_at: str | None = None  # the startup's address, while `sources` are not made yet
        self.read_only_flag = read_only_flag
        self._sourced: dict[str, tuple[str, Worker[None]]] = {}
        self.tails = TailCommands()  # what the console asks of its log tails (R, :pattern, priorities)
        self._regional: dict[str, AwsSession] = {}  # sessions for the other regions' resources
        self.fix_hook = fix_hook
        self.timers = timers
        self.main = MainScreen(store, target, session)
        self._gc_threshold: tuple[int, int, int] | None = None
        self._full_gc_at = 0.0
        self._input_at = 0.0
        self.crash: BaseException | None = None  # the first unexpected error, reported on exit

    def on_mount(self) -> None:
        self.set_class(self.no_color, "-no-color")
        self.push_screen(self.main)
        if self.timers:
            self.set_interval(DRAIN_INTERVAL, self.drain)
            self.set_interval(TICK_INTERVAL, self.tick)
        for n, feed in enumerate(self.feeds):
            self.tails.started(f"feed {n}", feed)
            self.run_worker(self._run_feed(feed), group="feeds", exit_on_error=False)
        if self.startup is not None:
            if self.startup.starting:
                self.store.apply(ev.Starting(self.startup.name, self.startup.starting))
            self.run_worker(self._run_feed(self.startup), group="feeds", exit_on_error=False)
        elif self.sources is not None and self.settings is not None:
            self._start_sources(self.sources.feeds(self.settings))
        if self.load_sources is not None:
            self.call_after_refresh(self._make_sources)
        if (self.feeds or self.sources or self.load_sources) and self.timers:
            self.call_after_refresh(self._schedule_gc)
        self.call_after_refresh(self.pump)

    def _schedule_gc(self) -> None:
        """Take full garbage collections off Python's automatic schedule.

        A full collection walks every live object: with the ring full (100k records and
        their matches) that is 150-400 ms with the GIL held, and at thousands of events/s
        Python starts one every few seconds (records pour into the oldest generation),
        each a frozen screen. So: the objects that live as long as the console (modules,
        styles, playbooks) are frozen out of collections; the full ones run from `tick`,
        at most every ten seconds and when the keyboard has been quiet for a moment (every
        twenty seconds regardless: ~80 ms with the ring full since records got compact, and the
        cyclic garbage Textual's strip caches make would otherwise grow the heap by tens
        of MB between collections); and young collections run every GC_YOUNG allocations
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

    def _start_sources(self, feeds: dict[str, Feed]) -> None:
        """Stop the sources not in `feeds`, start those not running; the others keep going."""
        for key in self._sourced.keys() - feeds.keys():
            name, worker = self._sourced.pop(key)
            worker.cancel()
            self.tails.stopped(key)
            self.store.forget_source(name)
        for key, feed in feeds.items():
            if key not in self._sourced:
                self.tails.started(key, feed)
                self._sourced[key] = (feed.name, self.run_worker(self._run_feed(feed), group="feeds",
                                                                 exit_on_error=False))

    async def switch(self, settings: Settings, change: str) -> None:
        """Go on with new settings (`:scope`, `:region`, `:profile`): the buffers stay, the
        sources whose arguments changed restart on them. Settings that do not work (no such
        profile, a region that does not answer) are refused in a notification and the current
        ones kept."""
        from warroom.aws.session import AwsSession
        from warroom.errors import UserError
        from warroom.tui.sources import identify

        if self.sources is None or (self.startup is not None and not self._sourced):
            self.notify(f"{change}: not yet: the console's sources have not started", timeout=5)
            return
        try:
            identity = await identify(settings)
        except UserError as exc:
            self.notify(f"{change}: not switched: {exc}", severity="error", timeout=8)
            return
        old, self.settings = [self.session, *self._regional.values()], settings
        self._regional = {}
        self.session = AwsSession(settings.aws())
        self.target = target_of(settings, identity, self.session)
        self.main.switch(self.target, self.session)
        # The tree shows the new scope's resources once its first check has read them.
        self.store.set_resources([])
        self.store.stats.connection = "connecting"
        self._start_sources(self.sources.feeds(settings))
        self.notify(f"{change}: the sources restarted on {self.target.region or 'no region'}"
                    f" · scope {settings.scope}", timeout=5)
        for session in old:
            if session is not None:
                await session.aclose()

    def session_for(self, resource: str) -> AwsSession | None:
        """The session for the region `resource` is in: a fix or a diagnosis acts where the
        resource is, not in the first region, when the console reads several."""
        found = next((r for r in self.store.resources if r.name == resource and r.region), None)
        if found is None or self.session is None or self.settings is None or found.region == self.session.region:
            return self.session
        if found.region not in self._regional:
            from warroom.aws.session import AwsSession

            self._regional[found.region] = AwsSession(self.settings.aws(found.region))
        return self._regional[found.region]

    async def _run_feed(self, feed: Feed) -> None:
        from warroom.aws.session import explain

        await run_on_thread(feed, self.inbox.post,
                            lambda exc: explain(exc, self.session.options if self.session else None))

    def _make_sources(self) -> None:
        """`load_sources`, once the first frame is up; the store learns their playbooks."""
        assert self.load_sources is not None
        self.sources = self.load_sources()
        self.store.playbooks.update({p.id: p for p in self.sources.catalog})
        self.main.tick()
        if self._ready_at is not None:
            self._account_ready(self._ready_at)

    def _account_ready(self, address: str) -> None:
        """The startup source's account answers at `address`: the sources start on it."""
        from warroom.aws.session import AwsSession

        if self.sources is None:
            self._ready_at = address  # they start once made
            return
        self._ready_at = None
        if self.settings is None:
            return
        self.settings = dataclasses.replace(self.settings, endpoint_url=address or self.settings.endpoint_url)
        old, self.session = self.session, AwsSession(self.settings.aws())
        self.target = dataclasses.replace(self.target, endpoint=self.settings.endpoint_url or "")
        self.main.switch(self.target, self.session)
        self._start_sources(self.sources.feeds(self.settings))
        if old is not None:
            self.run_worker(old.aclose(), group="close")

    def drain(self) -> None:
        """Apply what the sources posted; move queued records into the ring and show them (10 Hz)."""
        stats = self.store.stats
        shown = (stats.connection, stats.message, len(self.store.findings))
        for event in self.inbox.take():
            if isinstance(event, ev.Found):  # an answer for the logs pane, not a source's state
                self.main.logs.found(event)
                continue
            self.store.apply(event)
            if isinstance(event, ev.Ready) and self.startup is not None and event.source == self.startup.name:
                self._account_ready(event.address)
        seqs = self.store.drain(DRAIN_LIMIT)
        if seqs or self.store.ring.first or self.store.reordered:
            self.main.ingest(seqs)
        if shown != (stats.connection, stats.message, len(self.store.findings)) and self.main.is_mounted:
            # A source's new state or a new finding: shown now, not at the next tick.
            self.main.tick()

    def tick(self) -> None:
        self.store.tick()
        self.main.tick()
        # Groups with findings and the selected resource's get Live Tail sessions first.
        selected = self.main.logs.model.groups if self.main.is_mounted else None
        self.tails.prioritise_groups([f.group for f in self.store.findings.values() if f.group]
                                     + list(selected or ()))
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

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every notification is plain text: they carry names, paths and AWS errors."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def action_help_quit(self) -> None:
        # ctrl+c: Textual's own hint is markup, which `notify` above would show raw.
        self.notify("q or ctrl+q quits", title="Do you want to quit?")

    def _handle_exception(self, error: Exception) -> None:
        # Textual would print a traceback with local variables (log lines, parameters) on
        # the terminal; `warroom` writes it to a private file and prints one line instead.
        if self.crash is None:
            self.crash = error
        super()._handle_exception(error)
        self._exit_renderables.clear()

    async def action_quit(self) -> None:
        """q, ctrl+q and `:quit`: ask first while a fix is running, since quitting stops it."""
        from warroom.tui.confirm import QuitModal
        from warroom.tui.wizard import WizardScreen

        running = [s for s in self.screen_stack if isinstance(s, WizardScreen) and not s.finished]
        if not running:
            self.exit()
            return
        if not any(isinstance(s, QuitModal) for s in self.screen_stack):
            self.push_screen(QuitModal(running[0].playbook.id),
                             lambda yes: self.exit() if yes else None)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Changes", "what changed before the symptoms, and putting it back (C)",
                            self.main.action_changes)

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
        for session in (self.session, *self._regional.values()):
            if session is not None:
                await session.aclose()


def target_of(settings: Settings, identity: dict[str, str], session: AwsSession) -> Target:
    """What the status bar shows for these settings and the identity they act as."""
    from warroom.aws.scope import Scope

    return Target(region=",".join(settings.regions) or session.region or "",
                  account=identity.get("Account", ""), endpoint=settings.endpoint_url or "",
                  read_only=settings.read_only, profile=settings.profile or "",
                  scope="" if settings.scope == Scope() else str(settings.scope))
