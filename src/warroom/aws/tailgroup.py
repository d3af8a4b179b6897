"""One followed log group's state in a LogTail, the event rate, and the ids Live Tail events get."""

from __future__ import annotations

import asyncio
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from warroom.aws.seen import SeenIds


@dataclass
class TailGroup:
    """What a LogTail knows of one group: its memory, its readers, what is owed to it."""

    name: str
    arn: str
    floor: int                                    # never query below this
    seen: SeenIds
    high_ts: int | None = None                    # newest timestamp delivered
    # Running queries -> the lowest timestamp each may still return: ids at or above
    # it must be remembered until the query ends.
    active: dict[int, int] = field(default_factory=dict)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    done: bool = False
    # Timestamps a narrowed head poll did not re-read ([from, to]): owed to the next sweep.
    owed_from: int | None = None
    owed_to: int | None = None
    full_page: bool = False                       # the last head poll got a full page
    live: bool = False                            # a Live Tail session delivers it
    live_to: int | None = None                    # ms: the last session update that covered it
    gap: tuple[int, int] | None = None            # event times to backfill (ms, both inclusive)
    caught_up: bool = False                       # read from its floor to the present once
    insights_to: int | None = None                # ms: read by Logs Insights up to here (no session)
    # ms: a group that got a session is read by Insights until here (its session's start,
    # plus `late_window`): the handover window costs no FilterLogEvents call.
    handover_to: int | None = None


class Rate:
    """Events per second over the last few seconds."""

    def __init__(self, window: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.clock = clock
        self._marks: deque[tuple[float, int]] = deque()

    def add(self, count: int) -> None:
        self._marks.append((self.clock(), count))

    def value(self) -> float:
        now = self.clock()
        while self._marks and self._marks[0][0] < now - self.window:
            self._marks.popleft()
        return sum(c for _, c in self._marks) / self.window


def live_id(key: tuple[str, int, int | None, str], nth: int) -> str:
    """An id for an event Live Tail brought (it gives none): its identity, short."""
    stream, ts, ingested, message = key
    digest = zlib.crc32(message.encode(), zlib.crc32(stream.encode()))
    return f"live-{ts}-{ingested}-{digest:08x}-{nth}"


def now_ms() -> int:
    return int(time.time() * 1000)
