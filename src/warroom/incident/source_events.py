"""What sources say, and the one inbox they say it into; what the console asks of them.

Every source (a log tail, the health check, the demo's start-up) runs off the UI's loop
and only posts these events, each naming its source; the console drains the inbox on the
UI thread and applies them to the store (`IncidentStore.apply`), which so has one writer.
The other way, the console puts commands (`Narrow`, `Prioritise`, `Lookup`) into a log
tail's `Mailbox`; their answers come back through the inbox (`Found`). No Textual here.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from warroom.incident.records import Finding, Record, Resource


@dataclass(frozen=True)
class Starting:
    """The source is getting ready (the demo's account booting); `message` says how far."""

    source: str
    message: str


@dataclass(frozen=True)
class Ready:
    """The source is up; `address` is where it serves, when it is a service (the demo's account)."""

    source: str
    message: str = ""
    address: str = ""


@dataclass(frozen=True)
class Records:
    """A batch of records, in timestamp order; `history`: older than what was sent before it
    (a `--since` backfill in one block), to be shown where its times put it."""

    source: str
    records: Sequence[Record]
    history: bool = False


@dataclass(frozen=True)
class Ok:
    """The source's last attempt worked."""

    source: str


@dataclass(frozen=True)
class Failed:
    """The source's attempts fail; `message` says why, in plain words."""

    source: str
    message: str


@dataclass(frozen=True)
class Stalled:
    """Reading or matching has fallen behind: what is shown is late, not healthy."""

    source: str
    message: str


@dataclass(frozen=True)
class Throttled:
    """How many of the source's calls AWS has throttled so far."""

    source: str
    count: int


@dataclass(frozen=True)
class Sampled:
    """Live Tail is (or no longer is) sampling: how much arrived live, how much is being backfilled."""

    source: str
    sampled: bool
    live: int = 0
    backfilling: int = 0


@dataclass(frozen=True)
class TailStatus:
    """How a log tail reads: Live Tail sessions and groups, Insights, its FilterLogEvents share."""

    source: str
    live_sessions: int = 0
    live_groups: int = 0
    live_refused: bool = False
    insights_groups: int = 0
    filter_rate: float = 0.0      # FilterLogEvents calls/s over the last interval
    filter_budget: float = 0.0    # calls/s the tail may use
    insights_filtered: bool = False  # the Insights reads fetch only lines holding a symptom's literals
    assigned_by: str = ""         # what gave the busiest groups their sessions: "activity", "last event"

    def text(self, sampled: Sampled | None = None) -> str:
        """`Live Tail 6×60 · Insights 50 · sampled: 1,204 live, backfilling 3 · FilterLogEvents 0.8/1 per s`."""
        parts = []
        if self.live_sessions:
            parts.append(f"Live Tail {self.live_sessions}×{self.live_groups}")
        elif self.live_refused:
            parts.append("Live Tail refused: polling")
        if self.insights_groups:
            parts.append(f"Insights {self.insights_groups}"
                         + (" (symptom lines)" if self.insights_filtered else "")
                         + (f", sessions by {self.assigned_by}" if self.assigned_by else ""))
        if sampled is not None and sampled.sampled:
            parts.append(f"sampled: {sampled.live:,} live, backfilling {sampled.backfilling}")
        parts.append(f"FilterLogEvents {self.filter_rate:.1f}/{self.filter_budget:g} per s")
        return " · ".join(parts)


@dataclass(frozen=True)
class Discovered:
    """The resources a check round has read, before its probes and metrics are done: log
    findings go to their owners from then on."""

    source: str
    resources: Sequence[Resource]


@dataclass(frozen=True)
class CheckResult:
    """One health-check round: what it found replaces the previous round's."""

    source: str
    resources: Sequence[Resource] = ()
    findings: Sequence[Finding] = ()
    warnings: Sequence[str] = ()
    records: Sequence[Record] = ()   # deploy and log records not sent before, in timestamp order


@dataclass(frozen=True)
class Found:
    """A `Lookup`'s answer: the events holding its term, oldest first, or why there are none."""

    source: str
    token: int
    records: Sequence[Record] = ()
    error: str = ""


SourceEvent = (Starting | Ready | Records | Ok | Failed | Stalled | Throttled | Sampled | TailStatus
               | Discovered | CheckResult | Found)
Post = Callable[[SourceEvent], None]  # how a source says something: the inbox's `post`


# -- the console's commands to a log tail ---------------------------------------------------

@dataclass(frozen=True)
class Narrow:
    """Read only the events matching a CloudWatch filter pattern, at the source (None: all)."""

    pattern: str | None


@dataclass(frozen=True)
class Prioritise:
    """These groups get Live Tail sessions first (groups with findings, the selected resource's)."""

    groups: tuple[str, ...]


@dataclass(frozen=True)
class Lookup:
    """Find every event holding `term` (a request id) in [start_ms, end_ms], in `groups` (none
    given: every group the tail follows): answered by `Found`."""

    token: int
    term: str
    start_ms: int
    end_ms: int
    groups: tuple[str, ...] = ()


Command = Narrow | Prioritise | Lookup


class Mailbox:
    """Commands for one source: put from any thread, taken in order on the source's loop.

    `Narrow` and `Prioritise` are states, not requests: the latest of each is kept, so a tail
    that starts again (a new child, new settings) is told them first (`standing`).
    """

    def __init__(self) -> None:
        self._queue: deque[Command] = deque()
        self._lock = threading.Lock()
        self._waiter: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        self.narrow: Narrow | None = None
        self.prioritise: Prioritise | None = None

    def put(self, command: Command) -> None:
        with self._lock:
            if isinstance(command, Narrow):
                self.narrow = command
            elif isinstance(command, Prioritise):
                self.prioritise = command
            self._queue.append(command)
            waiter = self._waiter
        if waiter is not None:
            loop, event = waiter
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:
                pass  # that loop is closed: the next `get` binds to its own

    def standing(self) -> list[Command]:
        """The states in force, for a tail starting afresh."""
        with self._lock:
            return [c for c in (self.narrow, self.prioritise) if c is not None]

    async def get(self) -> Command:
        """The next command, waiting on the running loop for one."""
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                if self._queue:
                    return self._queue.popleft()
                if self._waiter is None or self._waiter[0] is not loop:
                    self._waiter = (loop, asyncio.Event())
                event = self._waiter[1]
                event.clear()
            await event.wait()


@dataclass
class Inbox:
    """Where every source posts; any thread, any loop. Only the UI thread takes."""

    _events: deque[SourceEvent] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, event: SourceEvent) -> None:
        with self._lock:
            self._events.append(event)

    def take(self) -> list[SourceEvent]:
        """Everything posted so far, oldest first; the inbox is then empty."""
        with self._lock:
            events = list(self._events)
            self._events.clear()
        return events

    def __len__(self) -> int:
        return len(self._events)
