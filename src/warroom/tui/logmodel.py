"""Which records of the ring the logs pane shows: group, text/regex and time-window filters.

Kept free of Textual so its rules are easy to test. The view is an index of sequence
numbers, extended as batches arrive and trimmed as the ring drops its oldest records.

A filter change need not search the whole buffer at once: `scan` examines the lines
newest first, in slices, so the screen (the newest lines) is right after the first slice
and the rest of the buffer fills in above it while the keyboard stays free.
"""

from __future__ import annotations

import bisect
import re
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol

from warroom.incident.records import Record
from warroom.incident.ring import Ring
from warroom.playbook.linear import Regex, RegexError

MARKER_SOURCE = "marker"
WINDOWS: tuple[tuple[str, int | None], ...] = (
    ("all", None), ("1m", 60_000), ("5m", 300_000), ("15m", 900_000), ("1h", 3_600_000))


SCAN_CHUNK = 2048  # lines examined between two looks at the clock

_SYNTAX = re.compile(r"[.^$*+?{}\[\]\\|()]")


class Pattern(Protocol):
    """A compiled `/` filter: `Literal` for plain text, RE2 for a regex."""

    def search(self, text: str) -> Any: ...

    def finditer(self, text: str) -> Iterator[Any]: ...


class Literal:
    """Plain `/` text. Lines are picked by a substring test on their lower-cased text, four
    times faster from Python than `re` with IGNORECASE; `re` finds the spans to highlight."""

    def __init__(self, text: str, case_sensitive: bool) -> None:
        self.case_sensitive = case_sensitive
        self.needle = text if case_sensitive else text.lower()
        self._regex = re.compile(re.escape(text), 0 if case_sensitive else re.IGNORECASE)

    def found_in(self, text: str) -> bool:
        return self.needle in (text if self.case_sensitive else text.lower())

    def search(self, text: str) -> re.Match[str] | None:
        return self._regex.search(text)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self._regex.finditer(text)


def compile_filter(text: str) -> Pattern | None:
    """The `/` filter: the text as a regex if it is one, else as a literal.

    Smart case, as in less and vim: any capital letter makes the match case-sensitive.
    A regex runs on RE2 (`linear.Regex`), linear in the line whatever the pattern, so that
    `(a+)+$` on a hostile line cannot freeze the console; plain text is a `Literal`.
    """
    if not text:
        return None
    case_sensitive = any(c.isupper() for c in text)
    if _SYNTAX.search(text):
        try:
            return Regex(text, ignore_case=not case_sensitive)
        except RegexError:
            pass  # not a regex RE2 takes (`[`, a lookaround): the literal text
    return Literal(text, case_sensitive)


class LogModel:
    """The filtered, ordered list of sequence numbers the logs pane displays."""

    def __init__(self, ring: Ring, clock_ms: Callable[[], int], slice_s: float | None = None) -> None:
        self.ring = ring
        self.clock_ms = clock_ms
        self.slice_s = slice_s                       # search time a filter change takes at once; None: all
        self.groups: frozenset[str] | None = None   # None: every group
        self.pattern: Pattern | None = None
        self._group_hits: dict[str, bool] = {}
        self.filter_text = ""
        self.request = ""                            # R: one request's lines, in time order
        # R's lines that CloudWatch still had and the buffer did not: shown as seq -1-k.
        self.fetched: list[Record] = []
        self.window = 0                              # index into WINDOWS
        # Sequence numbers as machine integers: 8 bytes a line shown, not an int object each.
        self._index: array[int] | None = None        # None: the whole ring, unfiltered
        self._start = 0                              # live part of _index begins here
        self._built_for: tuple[frozenset[str] | None, int] = (None, 0)  # groups, window of _index
        self._todo: Sequence[int] = ()               # not yet examined (ascending, all below _index)
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
        """The `/` filter; typing on narrows the lines shown instead of searching the buffer again."""
        narrows = self._index is not None and self.plain_text() and text.startswith(self.filter_text) \
            and self._built_for == (self.groups, self.window)
        self.filter_text = text
        self.request = ""
        self.pattern = compile_filter(text)
        self._group_hits.clear()
        if narrows and self.plain_text():
            # A line (or group) holding the longer text holds the shorter one: the lines
            # shown (and those not yet looked at) are the only ones to look at.
            assert self._index is not None
            self._keep(_seqs(self._todo, self._index[self._start:]))
        else:
            self.rebuild()

    def plain_text(self) -> bool:
        """The filter is text, not a regex (nor a request): longer text matches fewer lines."""
        return bool(self.filter_text) and not self.request and isinstance(self.pattern, Literal)

    def set_request(self, request_id: str) -> None:
        """Every line naming the request, across all groups and times, oldest first."""
        self.groups = None
        self.window = 0
        self.filter_text = request_id
        self.pattern = Literal(request_id, case_sensitive=True)
        self._group_hits.clear()
        self.request = request_id
        self.rebuild()

    def cycle_window(self) -> str:
        self.window = (self.window + 1) % len(WINDOWS)
        self.rebuild()
        return self.window_label

    def _accepts(self, cutoff: int | None) -> Callable[[Record], bool]:
        """Whether the filters take a record, as one function: the search calls it on every line."""
        groups, pattern, group_matches = self.groups, self.pattern, self._group_matches
        if pattern is None:
            found: Callable[[str], bool] = lambda message: True  # noqa: E731
        elif isinstance(pattern, Literal):
            found = pattern.found_in
        else:
            search = pattern.search
            found = lambda message: search(message) is not None  # noqa: E731

        def test(record: Record) -> bool:
            return record.source == MARKER_SOURCE or (
                (groups is None or record.group in groups)
                and (cutoff is None or record.timestamp >= cutoff)
                and (found(record.message) or (pattern is not None and group_matches(record.group))))
        return test

    def _group_matches(self, group: str) -> bool:
        # A few groups for many lines: each is searched once per filter, not once per line.
        hit = self._group_hits.get(group)
        if hit is None:
            assert self.pattern is not None
            hit = self._group_hits[group] = self.pattern.search(group) is not None
        return hit

    def _cutoff(self) -> int | None:
        w = self.window_ms
        return self.clock_ms() - w if w is not None else None

    def rebuild(self) -> None:
        self._ring_first = self.ring.first
        self._todo = ()
        if not self.request:
            self.fetched = []
        if not self.filtered:
            self._index = None
            self._start = 0
            return
        self._keep(self.ring.seqs())

    def _keep(self, seqs: Sequence[int]) -> None:
        """The view becomes those of `seqs` (ascending) the filters accept, the newest first."""
        self._index = _seqs(-1 - k for k in range(len(self.fetched))) if self.request else _seqs()
        self._start = 0
        self._todo = seqs
        self._ring_first = self.ring.first
        self._built_for = (self.groups, self.window)
        self.scan(self.slice_s)

    @property
    def complete(self) -> bool:
        """Every line of the buffer has been looked at for the current filters."""
        return not self._todo

    def scan(self, seconds: float | None = None) -> int:
        """Look at lines not yet examined, newest first, for about `seconds` (None: all of them).

        Returns how many entered the view; they go above the lines already shown.
        """
        todo = self._todo
        if not todo or self._index is None:
            return 0
        deadline = None if seconds is None else time.perf_counter() + seconds
        cutoff = self._cutoff()
        ring = self.ring
        first = ring.first
        accepts = self._accepts(cutoff)
        found: list[list[int]] = []
        end = len(todo)
        while end > 0 and todo[end - 1] >= first:
            lo = max(0, end - SCAN_CHUNK)
            found.append([s for s in todo[lo:end] if s >= first and accepts(ring[s])])
            end = lo
            if deadline is not None and time.perf_counter() >= deadline:
                break
        self._todo = todo[:end] if end and todo[end - 1] >= first else ()
        new = _seqs(*reversed(found))
        self._index[self._start:self._start] = new
        if self.request:
            # Groups arrive in batches of their own: a request's lines are put in time order.
            self._index[self._start:] = _seqs(sorted(self._index[self._start:], key=self._by_time))
            if new and self.fetched:
                self._drop_fetched_twins()
        return len(new)

    # -- updates ----------------------------------------------------------------------

    def extend(self, seqs: Iterable[int]) -> int:
        """Add newly drained records; returns how many entered the view."""
        if self._index is None:
            return sum(1 for s in seqs if s >= self.ring.first)
        cutoff = self._cutoff()
        ring = self.ring
        before = len(self._index)
        accepts = self._accepts(cutoff)
        new = (s for s in seqs if s >= ring.first and accepts(ring[s]))
        if self.request:
            for s in new:  # a late line of the request goes where its time puts it
                bisect.insort(self._index, s, key=self._by_time)
            if self.fetched:
                self._drop_fetched_twins()
        else:
            self._index.extend(new)
        return len(self._index) - before

    def trim(self) -> int:
        """Forget records the ring dropped or the window left behind; returns how many."""
        if self._index is None:
            gone = self.ring.first - self._ring_first
            self._ring_first = self.ring.first
            return max(0, gone)
        if self.request:  # ordered by time: what the ring dropped can be anywhere in the index
            before = len(self._index)
            first = self.ring.first
            self._index = _seqs(s for s in self._index if s >= first or s < 0)
            self._ring_first = self.ring.first
            return before - len(self._index)
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
        return self._at(self.seq(i))

    def _at(self, seq: int) -> Record:
        return self.ring[seq] if seq >= 0 else self.fetched[-1 - seq]

    def _by_time(self, seq: int) -> tuple[int, int]:
        return (self._at(seq).timestamp, seq)

    # -- R: a request's older lines, from CloudWatch -------------------------------------

    def add_fetched(self, records: Iterable[Record]) -> int:
        """Lines of the request shown (`set_request`) that CloudWatch still had: those not
        shown already go in where their times put them. Returns how many."""
        if not self.request or self._index is None:
            return 0
        shown = {_identity(self._at(s)) for s in self._index[self._start:]}
        added = 0
        for record in records:
            key = _identity(record)
            if key in shown or self.request not in record.message:
                continue
            shown.add(key)
            self.fetched.append(record)
            bisect.insort(self._index, -len(self.fetched), lo=self._start, key=self._by_time)
            added += 1
        return added

    def _drop_fetched_twins(self) -> None:
        """A fetched line the buffer now shows itself (it arrived, or the search reached it)
        is shown once: the buffer's."""
        assert self._index is not None
        live = {_identity(self.ring[s]) for s in self._index[self._start:] if s >= 0}
        twins = {s for s in self._index[self._start:] if s < 0 and _identity(self.fetched[-1 - s]) in live}
        if twins:
            self._index = _seqs(s for s in self._index if s not in twins)

    def position(self, seq: int) -> int | None:
        """The view index of a sequence number, if it is shown."""
        if self._index is None:
            i = seq - self.ring.first
            return i if 0 <= i < len(self.ring) else None
        if self.request:
            return self._index.index(seq) - self._start if seq in self._index else None
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


def _identity(record: Record) -> tuple[str, str, int, str]:
    """What makes two records the same event, whichever way they came (Live Tail results carry no id)."""
    return (record.group, record.stream, record.timestamp, record.message)


def _seqs(*parts: Iterable[int]) -> array[int]:
    """Sequence numbers, in the order given, as one array."""
    out = array("q")
    for part in parts:
        out.extend(part)
    return out
