"""What sources say, and the one inbox they say it into.

Every source (a log tail, the health check, the demo's start-up) runs off the UI's loop
and only posts these events, each naming its source; the console drains the inbox on the
UI thread and applies them to the store (`IncidentStore.apply`), which so has one writer.
No Textual here.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
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
    """A batch of records, in timestamp order."""

    source: str
    records: Sequence[Record]


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

    def text(self, sampled: Sampled | None = None) -> str:
        """`Live Tail 6×60 · Insights 50 · sampled: 1,204 live, backfilling 3 · FilterLogEvents 0.8/1 per s`."""
        parts = []
        if self.live_sessions:
            parts.append(f"Live Tail {self.live_sessions}×{self.live_groups}")
        elif self.live_refused:
            parts.append("Live Tail refused: polling")
        if self.insights_groups:
            parts.append(f"Insights {self.insights_groups}")
        if sampled is not None and sampled.sampled:
            parts.append(f"sampled: {sampled.live:,} live, backfilling {sampled.backfilling}")
        parts.append(f"FilterLogEvents {self.filter_rate:.1f}/{self.filter_budget:g} per s")
        return " · ".join(parts)


@dataclass(frozen=True)
class CheckResult:
    """One health-check round: what it found replaces the previous round's."""

    source: str
    resources: Sequence[Resource] = ()
    findings: Sequence[Finding] = ()
    warnings: Sequence[str] = ()
    records: Sequence[Record] = ()   # deploy and log records not sent before, in timestamp order


SourceEvent = Starting | Ready | Records | Ok | Failed | Stalled | Throttled | Sampled | TailStatus | CheckResult


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
