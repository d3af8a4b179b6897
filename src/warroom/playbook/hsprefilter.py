"""The Hyperscan prefilter of the matcher (see `matcher.py`): whole blocks of lines
through one automaton, tuned to the input."""

from __future__ import annotations

import bisect
import functools
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from warroom.playbook.anchors import without_line_starts

if TYPE_CHECKING:
    from warroom.playbook.matcher import _Entry


class HyperscanPrefilter:
    """One Hyperscan automaton over whole blocks of lines, tuned to the input.

    Each pattern is looked for by ONE of its required literal sets, its anchor. Which set
    is rarest depends on the input (`REPORT RequestId:` is everywhere in Lambda logs,
    `Status: timeout` is not), so the first SAMPLE bytes scanned (a block's start, or a
    tail's batches until there are enough) and again every RETUNE scans are scanned for
    all literals, their frequencies are counted and each pattern's anchor is re-chosen.

    A pattern whose rarest anchor is still common (more than one line per HOT bytes: a
    threshold on the numbers of every REPORT or access-log line) is looked for by the
    regex itself instead, compiled in Hyperscan's prefilter mode: a superset of the regex,
    never a false negative, followed by `[^\\n]*\\n` so that it reports once per line, at
    the line's end. Hyperscan reads bytes and RE2 reads characters, and their `\\s`
    differ in one byte (vertical tab): both agree on lines of other ASCII, and a line
    holding any other byte is looked for by the literal anchors (an ESCAPE pattern finds
    those lines). Only patterns that are ASCII and anchor nothing at the end of the text
    (which a line's `\\r` would move) are candidates. A pattern under a numeric compare
    is always looked for this way, by its narrowed regex (`compare_narrow.py`). An engine
    build known to lose such a regex's line (`regexes_sound`) looks for every pattern by
    its literals.

    Every hit costs a Python callback, and a hostile line can repeat a literal thousands
    of times. A scan that meets more than one hit per DENSE bytes (ordinary logs: one per
    ~450) is stopped and redone line by line, each line finished after HEAVY hits with a
    single-match copy of the literal automaton, which reports each pattern once; tuning
    counts at most TUNE_HITS hits.
    """

    name = "hyperscan"
    RETUNE = 64          # scans (blocks, batches) between re-tunings
    SAMPLE = 512 << 10   # bytes counted when tuning
    TUNE_MIN = 64 << 10  # less input is not tuned on: it scans fast whatever the anchors,
                         # and re-compiling them would cost more than the scan (start-up)
    TUNE_HITS = 16384    # hits counted when tuning (ordinary logs: one per ~30 bytes)
    HOT = 64 << 10       # bytes per candidate line below which a pattern is prefiltered by itself:
                         # in the automaton a regex costs about what a few lines cost in Python
    DENSE = 64           # bytes per hit below which a scan is redone line by line
    HEAVY = 64           # hits in one line before it is finished with the single-match copy
    PIECE = 4096         # bytes scanned after a heavy line (`_by_segment`)
    ESCAPE = rb"[\x0b\x80-\xff][^\n]*\n"  # a line Hyperscan and RE2 may read differently

    def __init__(self, entries: list[_Entry], narrowed: Mapping[int, str] | None = None) -> None:
        import hyperscan  # optional native dependency; ImportError selects the fallback

        self._hs = hyperscan
        self._entries = entries
        # A hot pattern's regex with its compare's necessary condition spelled out
        # (`compare_narrow.py`): what is looked for instead of its bare regex.
        self._narrowed = dict(narrowed or {})
        self._ids: dict[tuple[str, bool], int] = {}
        for entry in entries:
            for conj in entry.conjuncts:
                for lit in conj:
                    self._ids.setdefault((lit, entry.caseless), len(self._ids))
        self._full = self._compile(list(self._ids))
        self._anchors = [0] * len(entries)
        # Patterns not looked for by their regexes: those Hyperscan's prefilter mode
        # refused, or all of them on a build that loses regexes' lines.
        self._unready: set[int] = set() if regexes_sound(hyperscan) else set(range(len(entries)))
        # A narrowed pattern is looked for by its regex from the start, tuned or not (a
        # tail's batches are never tuned on): its literals are on every REPORT line.
        self._hot: frozenset[int] = frozenset(i for i in self._narrowed if entries[i].regex_ready) - self._unready
        self._single_db, self._single_owners = self._compile_single()
        self._single_stale = False
        self._anchor_db, self._anchor_owners, self._escape = self._compile_block()
        self._sample: bytearray | None = bytearray()  # input kept for the next tuning
        self._scans = 0  # since the last tuning
        self.retuned = False  # the anchors or hot patterns changed since `settle`
        # One scratch space may not be shared by concurrent scans.
        self._lock = threading.Lock()

    _DATABASES = ("_full", "_anchor_db", "_single_db")

    def __getstate__(self) -> dict[str, Any]:
        # Compiled databases travel serialized (a start-up cache); the module and the
        # lock are this process's own.
        hs = self._hs
        state = {k: v for k, v in self.__dict__.items() if k not in ("_hs", "_lock")}
        state.update({k: hs.dumpb(getattr(self, k)) for k in self._DATABASES})
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        import hyperscan

        self.__dict__.update(state)
        self._hs = hyperscan
        for key in self._DATABASES:
            db = hyperscan.loadb(state[key], hyperscan.HS_MODE_BLOCK)
            db.scratch = hyperscan.Scratch(db)
            setattr(self, key, db)
        self._lock = threading.Lock()

    def _compile(self, keys: list[tuple[str, bool]], single: bool = False,
                 regexes: Sequence[tuple[str, bool]] = (), escape: bool = False) -> Any:
        """Literals (ids from 0), then regexes in prefilter mode, then the ESCAPE pattern."""
        hs = self._hs
        expressions = [_literal(lit, caseless) for lit, caseless in keys]
        once = hs.HS_FLAG_SINGLEMATCH if single else 0
        flags = [(hs.HS_FLAG_CASELESS if caseless else 0) | once for _, caseless in keys]
        for pattern, caseless in regexes:
            expressions.append(f"(?:{pattern})[^\\n]*\\n".encode("ascii"))
            flags.append(hs.HS_FLAG_PREFILTER | hs.HS_FLAG_MULTILINE | (hs.HS_FLAG_CASELESS if caseless else 0))
        if escape:
            expressions.append(self.ESCAPE)
            flags.append(0)
        db = hs.Database(mode=hs.HS_MODE_BLOCK)
        db.compile(expressions=expressions, ids=list(range(len(expressions))),
                   elements=len(expressions), flags=flags)
        return db

    def _anchor_ids(self, skip: Collection[int] = ()) -> tuple[dict[tuple[str, bool], int], list[list[int]]]:
        """An id for each pattern's anchor literal (but `skip`'s), and the patterns each id stands for."""
        keys: dict[tuple[str, bool], int] = {}
        owners: list[list[int]] = []
        for i, entry in enumerate(self._entries):
            if i in skip:
                continue
            for lit in entry.conjuncts[self._anchors[i]]:
                key = (lit, entry.caseless)
                if key not in keys:
                    keys[key] = len(owners)
                    owners.append([])
                owners[keys[key]].append(i)
        return keys, owners

    def _single(self) -> tuple[Any, list[list[int]]]:
        """The single-match automaton of the current anchors, rebuilt if they changed."""
        if self._single_stale:
            self._single_db, self._single_owners = self._compile_single()
            self._single_stale = False
        return self._single_db, self._single_owners

    def _compile_single(self) -> tuple[Any, list[list[int]]]:
        """Every pattern's literal anchor, each reported once (for single lines), and
        the patterns each id stands for."""
        keys, owners = self._anchor_ids()
        return self._compile(list(keys), single=True), owners

    def _compile_block(self) -> tuple[Any, list[list[int]], int]:
        """The blocks' automaton, its ids' patterns, and the id of ESCAPE (-1: absent)."""
        while True:
            keys, owners = self._anchor_ids(self._hot)
            regexes: dict[tuple[str, bool], list[int]] = {}
            for i in sorted(self._hot):  # one expression for a pattern several symptoms share
                symptom = self._entries[i].symptom
                regexes.setdefault((self._regex(i), symptom.ignore_case), []).append(i)
            try:
                db = self._compile(list(keys), regexes=list(regexes), escape=bool(regexes))
            except self._hs.error:
                self._refused(list(regexes.values()))
                continue
            owners.extend(regexes.values())
            return db, owners, len(owners) if regexes else -1

    def _regex(self, i: int) -> str:
        # A `^` would miss a JSON object's string, which the matcher reads as a line too.
        return without_line_starts(self._narrowed.get(i, self._entries[i].symptom.pattern))

    def _refused(self, groups: list[list[int]]) -> None:
        """Find the hot patterns prefilter mode cannot compile; they keep their literals."""
        for group in groups:
            symptom = self._entries[group[0]].symptom
            try:
                self._compile([], regexes=[(self._regex(group[0]), symptom.ignore_case)])
            except self._hs.error:
                self._unready.update(group)
        self._hot = self._hot - self._unready

    def _scan(self, db: Any, data: bytes, limit: int) -> tuple[list[tuple[int, int]], bool]:
        """(pattern id, end offset) of the hits, and whether that is all (at most `limit`)."""
        hits: list[tuple[int, int]] = []
        add = hits.append

        def on_match(pid: int, _from: int, to: int, _flags: int, _ctx: Any) -> bool:
            add((pid, to))
            return len(hits) > limit

        try:
            with self._lock:
                db.scan(data, match_event_handler=on_match)
        except self._hs.ScanTerminated:
            return hits, False
        return hits, True

    def _limit(self, data: bytes) -> int:
        return len(data) // self.DENSE + self.HEAVY

    def prepare(self, sample: bytes) -> None:
        """Tune on `sample` now, with every automaton current: before forking workers
        that would each do it."""
        self._tune(sample)
        self._sample, self._scans = None, 0
        self._single()

    def _collect(self, data: bytes) -> None:
        """Tune on the first SAMPLE bytes scanned and again every RETUNE scans: a block's
        start, or a tail's batches gathered until there are TUNE_MIN bytes of them."""
        if self._sample is None:
            self._scans += 1
            if self._scans < self.RETUNE:
                return
            self._sample = bytearray()
        if self._sample:
            self._sample += b"\n"
        self._sample += data[: self.SAMPLE - len(self._sample)]
        if len(self._sample) >= self.TUNE_MIN:
            self._tune(bytes(self._sample))
            self._sample, self._scans = None, 0

    def _tune(self, data: bytes) -> None:
        """Re-choose anchors and hot patterns from the literals' counts in a sample."""
        cut = data.rfind(b"\n", 0, self.SAMPLE)
        sample = data[: cut if cut > 0 else self.SAMPLE]
        hits, complete = self._scan(self._full, sample, self.TUNE_HITS)
        counts = [0] * len(self._ids)
        for pid, _ in hits:
            counts[pid] += 1
        covered = len(sample) if complete or not hits else hits[-1][1]
        anchors, hot = [], set()
        for i, entry in enumerate(self._entries):
            cost = [sum(counts[self._ids[(lit, entry.caseless)]] for lit in conj)
                    for conj in entry.conjuncts]
            best = min(range(len(cost)), key=cost.__getitem__)
            anchors.append(best)
            if cost[best] * self.HOT > covered or i in self._narrowed:
                hot.add(i)
        changed = anchors != self._anchors
        if changed:
            self._anchors = anchors
            self._single_stale = True  # rebuilt when a line needs it: most scans never do
        before = self._hot
        self._use_regexes(hot, rebuild=changed)
        self.retuned = self.retuned or changed or self._hot != before

    def settle(self) -> bool:
        """Whether tuning changed the automata since the last call; if so, bring the
        single-line one up to date too, ready to be cached: a cache that keeps the tuned
        automata spares the next scan of like input its compiling."""
        if not self.retuned:
            return False
        self._single()
        self.retuned = False
        return True

    def prefilter_by_regex(self, patterns: Iterable[int]) -> frozenset[int]:
        """Look for these patterns by their regexes from now on (those that can be), the
        others by their literal anchors; returns the ones that are. (Tuning chooses
        them by itself; this is for tests and measurements.)"""
        self._use_regexes(patterns, rebuild=False)
        return self._hot

    def _use_regexes(self, patterns: Iterable[int], rebuild: bool) -> None:
        hot = frozenset(i for i in patterns if self._entries[i].regex_ready) - self._unready
        if rebuild or hot != self._hot:
            self._hot = hot
            self._anchor_db, self._anchor_owners, self._escape = self._compile_block()

    def _once(self, data: bytes) -> set[int]:
        """Patterns anchored in `data`, one callback per literal found."""
        db, owners = self._single()
        hits, _ = self._scan(db, data, len(owners))  # one hit per literal at most
        return {i for pid, _ in hits for i in owners[pid]}

    def _by_segment(self, data: bytes, bounds: Callable[[int], tuple[int, int]]) -> dict[int, set[int]]:
        """Patterns anchored in each segment of `data`, keyed by the segment's start.

        `bounds(offset)` is the (start, end) of the segment holding a byte offset, the
        newline that ends it included; a literal never spans two segments.

        The engine scans only `bytes`, and a scan stopped at a heavy segment resumes after
        it on a copy: the copies are pieces ending at a newline, PIECE bytes after a stop
        and twice as many after each piece scanned whole, so that copying stays linear in
        `data` however many segments are heavy.
        """
        out: dict[int, set[int]] = {}
        owners = self._anchor_owners
        escape = self._escape
        escaped: set[int] = set()
        heavy = self.HEAVY
        base = start = hits = 0
        size = self.PIECE
        end = -1  # the current segment is data[start:end], its newline at `end`

        def on_match(pid: int, _from: int, to: int, _flags: int, _ctx: Any) -> bool:
            nonlocal start, end, hits
            at = base + to - 1
            if at > end or at < start:
                start, end = bounds(at)
                hits = 0
            hits += 1
            if hits > heavy:
                return True  # stop: the rest of this segment is read by _once
            if pid == escape:
                escaped.add(start)
                return False
            found = out.get(start)
            if found is None:
                out[start] = set(owners[pid])
            else:
                found.update(owners[pid])
            return False

        while base < len(data):
            cut = data.find(b"\n", base + size)
            stop = len(data) if cut < 0 else cut + 1
            try:
                with self._lock:
                    self._anchor_db.scan(data[base:stop], match_event_handler=on_match)
                base, size = stop, size * 2
            except self._hs.ScanTerminated:
                escaped.add(start)
                base, size = end + 1, self.PIECE
        for key in escaped:
            _, stop = bounds(key)
            out[key] = out.get(key, set()) | self._once(data[key:stop])
        return out

    def line(self, text: str) -> set[int]:
        return self._once(text.encode("utf-8", "surrogatepass"))

    def many(self, texts: list[str]) -> list[set[int]]:
        # One scan over all texts, each ended by a newline; a literal never spans the
        # joint, so each hit belongs to the text whose start offset precedes it.
        encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
        starts, pos = [], 0
        for chunk in encoded:
            starts.append(pos)
            pos += len(chunk) + 1
        data = b"\n".join([*encoded, b""])
        ends = [start + len(chunk) for start, chunk in zip(starts, encoded, strict=True)]

        def bounds(offset: int) -> tuple[int, int]:
            k = bisect.bisect_right(starts, offset) - 1
            return starts[k], ends[k]

        self._collect(data)
        hits, complete = self._scan(self._anchor_db, data, self._limit(data))
        if not complete:
            found = self._by_segment(data, bounds)
            return [found.get(start, set()) for start in starts]
        found = self._lines(hits, data, lambda at: starts[bisect.bisect_right(starts, at) - 1], bounds)
        return [found.get(start, set()) for start in starts]

    def block(self, data: bytes, tune: bool = True) -> dict[int, set[int]]:
        if tune:
            self._collect(data)
        data += b"\n"  # every line ends in one: the hot patterns report there

        def bounds(offset: int) -> tuple[int, int]:
            return data.rfind(b"\n", 0, offset) + 1, data.find(b"\n", offset)

        hits, complete = self._scan(self._anchor_db, data, self._limit(data))
        if not complete:
            return self._by_segment(data, bounds)
        rfind = data.rfind
        return self._lines(hits, data, lambda at: rfind(b"\n", 0, at) + 1, bounds)

    def _lines(self, hits: list[tuple[int, int]], data: bytes, start_of: Callable[[int], int],
               bounds: Callable[[int], tuple[int, int]]) -> dict[int, set[int]]:
        """The patterns found in each segment, keyed by its start, from a complete scan."""
        out: dict[int, set[int]] = {}
        owners = self._anchor_owners
        escape = self._escape
        escaped = []
        for pid, to in hits:
            # A literal's last byte or, for a hot pattern, the newline ending its line.
            start = start_of(to - 1)
            if pid == escape:
                escaped.append(start)
                continue
            found = out.get(start)
            if found is None:
                out[start] = set(owners[pid])
            else:
                found.update(owners[pid])
        for start in escaped:
            _, end = bounds(start)
            out[start] = out.get(start, set()) | self._once(data[start:end])
        return out


# Vectorscan 5.4.12 (python-hyperscan 0.7.23 to 0.9.1) reports neither regex on this row
# when both are in one database, though each alone finds it (like VectorCamp/vectorscan#382):
# a prefilter with a false negative would lose symptom lines. 5.4.11 finds it.
_PROBE = (rb"\|\s*INSUFFICIENT_DATA\s*\|", rb"\|\s+PendingConfirmation\s+\|")
_PROBE_ROW = b" " * 15 + b"| INSUFFICIENT_DATA |\n"


@functools.cache
def regexes_sound(hs: Any) -> bool:
    """Whether this Hyperscan build finds a row that one of two regexes in a database
    matches, where a known bug loses it."""
    db = hs.Database(mode=hs.HS_MODE_BLOCK)
    db.compile(expressions=list(_PROBE), ids=[0, 1], elements=2, flags=[hs.HS_FLAG_PREFILTER] * 2)
    found: list[int] = []
    db.scan(_PROBE_ROW, match_event_handler=lambda pid, *_: found.append(pid))
    return found == [0]


def _literal(lit: str, caseless: bool) -> bytes:
    """A literal as a Hyperscan expression, every byte escaped. Caseless, a `k` also
    stands for the Kelvin sign: `str.lower()` (the Python prefilter) and RE2 both read
    it as `k`, the one character outside ASCII that lowers to an ASCII letter and that
    RE2 folds with it."""
    out = []
    for byte in lit.encode("utf-8"):
        out.append(rb"(?:k|\xe2\x84\xaa)" if caseless and byte in b"kK" else b"\\x%02x" % byte)
    return b"".join(out)
