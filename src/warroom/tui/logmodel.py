"""Which records of the ring the logs pane shows: group, text/regex and time-window filters.

Kept free of Textual so its rules are easy to test. The view is an index of sequence
numbers, extended as batches arrive and trimmed as the ring drops its oldest records.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from warroom.incident.records import Record
from warroom.incident.store import Ring

MARKER_SOURCE = "marker"
WINDOWS: tuple[tuple[str, int | None], ...] = (
    ("all", None), ("1m", 60_000), ("5m", 300_000), ("15m", 900_000), ("1h", 3_600_000))


def compile_filter(text: str) -> re.Pattern[str] | None:
    """A regex for the `/` filter: the text as a regex if it is one, else as a literal.

    Smart case, as in less and vim: any capital letter makes the match case-sensitive.
    """
    if not text:
        return None
    flags = 0 if any(c.isupper() for c in text) else re.IGNORECASE
    try:
        return re.compile(text, flags)
    except re.error:
        return re.compile(re.escape(text), flags)


class LogModel:
    """The filtered, ordered list of sequence numbers the logs pane displays."""

    def __init__(self, ring: Ring, clock_ms: Callable[[], int]) -> None:
        self.ring = ring
        self.clock_ms = clock_ms
        self.groups: frozenset[str] | None = None   # None: every group
        self.pattern: re.Pattern[str] | None = None
        self.filter_text = ""
        self.window = 0                              # index into WINDOWS
        self._index: list[int] | None = None         # None: the whole ring, unfiltered
        self._start = 0                              # live part of _index begins here
        self._ring_first = ring.first

    # -- filters ----------------------------------------------------------------------

    @property
    def filtered(self) -> bool:
        return self.groups is not None or self.pattern is not None or self.window_ms is not None

    @property
    def window_ms(self) -> int | None:
        return WINDOWS[self.window][1]

    @property
    def window_label(self) -> str:
        return WINDOWS[self.window][0]

    def set_groups(self, groups: Iterable[str] | None) -> None:
        self.groups = frozenset(groups) if groups is not None else None
        self.rebuild()

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self.pattern = compile_filter(text)
        self.rebuild()

    def cycle_window(self) -> str:
        self.window = (self.window + 1) % len(WINDOWS)
        self.rebuild()
        return self.window_label

    def accepts(self, record: Record, cutoff: int | None) -> bool:
        if record.source == MARKER_SOURCE:
            return True
        if self.groups is not None and record.group not in self.groups:
            return False
        if cutoff is not None and record.timestamp < cutoff:
            return False
        if self.pattern is not None and self.pattern.search(record.message) is None \
                and self.pattern.search(record.group) is None:
            return False
        return True

    def _cutoff(self) -> int | None:
        w = self.window_ms
        return self.clock_ms() - w if w is not None else None

    def rebuild(self) -> None:
        self._ring_first = self.ring.first
        if not self.filtered:
            self._index = None
            self._start = 0
            return
        cutoff = self._cutoff()
        ring = self.ring
        self._index = [s for s in ring.seqs() if self.accepts(ring[s], cutoff)]
        self._start = 0

    # -- updates ----------------------------------------------------------------------

    def extend(self, seqs: Iterable[int]) -> int:
        """Add newly drained records; returns how many entered the view."""
        if self._index is None:
            return sum(1 for s in seqs if s >= self.ring.first)
        cutoff = self._cutoff()
        ring = self.ring
        before = len(self._index)
        self._index.extend(s for s in seqs if s >= ring.first and self.accepts(ring[s], cutoff))
        return len(self._index) - before

    def trim(self) -> int:
        """Forget records the ring dropped or the window left behind; returns how many."""
        if self._index is None:
            gone = self.ring.first - self._ring_first
            self._ring_first = self.ring.first
            return max(0, gone)
        index, start = self._index, self._start
        first = self.ring.first
        cutoff = self._cutoff()
        ring = self.ring
        while start < len(index) and (index[start] < first or (
                cutoff is not None and ring[index[start]].source != MARKER_SOURCE
                and ring[index[start]].timestamp < cutoff)):
            start += 1
        gone = start - self._start
        if start > 4096 and start > len(index) // 2:
            del index[:start]
            start = 0
        self._start = start
        self._ring_first = first
        return gone

    # -- access -----------------------------------------------------------------------

    def __len__(self) -> int:
        if self._index is None:
            return len(self.ring)
        return len(self._index) - self._start

    def seq(self, i: int) -> int:
        if self._index is None:
            return self.ring.first + i
        return self._index[self._start + i]

    def record(self, i: int) -> Record:
        return self.ring[self.seq(i)]

    def position(self, seq: int) -> int | None:
        """The view index of a sequence number, if it is shown."""
        if self._index is None:
            i = seq - self.ring.first
            return i if 0 <= i < len(self.ring) else None
        import bisect

        i = bisect.bisect_left(self._index, seq, self._start)
        if i < len(self._index) and self._index[i] == seq:
            return i - self._start
        return None

    def find_symptom(self, start: int, step: int) -> int | None:
        """The next view index from `start` (exclusive) in direction `step` with a symptom."""
        i = start + step
        n = len(self)
        while 0 <= i < n:
            if self.record(i).matches:
                return i
            i += step
        return None
