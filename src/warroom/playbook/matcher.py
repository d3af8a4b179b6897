"""Recognising playbook symptoms in text lines.

Two stages. A prefilter finds, for each line, the symptom patterns whose required
literals (see `literals.py`) occur in it; only those patterns then run, on RE2 (see
`linear.py`: time linear in the line whatever the pattern, since log text is untrusted),
which gives exact spans and named captures. The prefilter is Hyperscan (one
multi-literal automaton over whole blocks of lines) when it is installed, and a
pure-Python substring test otherwise: both must give the same results.
"""

from __future__ import annotations

import bisect
import fnmatch
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from warroom.playbook.literals import conjuncts
from warroom.playbook.model import Playbook, TextSymptom

MAX_LINE = 1 << 20  # longer lines are matched on their first MiB


@dataclass(frozen=True, slots=True)
class Match:
    """One playbook recognised in a line."""

    playbook: str
    title: str
    start: int
    end: int
    captures: dict[str, str] = field(default_factory=dict)
    priority: int = 50

    def to_json(self) -> dict[str, Any]:
        return {"playbook": self.playbook, "title": self.title, "start": self.start,
                "end": self.end, "captures": self.captures}


@dataclass(frozen=True, slots=True)
class Veto:
    """A pattern that matched a line but that its symptom's `unless` or `compare` ruled out."""

    match: Match  # the pattern's own first match, as it would have been reported
    symptom: TextSymptom
    by: str  # "unless" or "compare"


@dataclass(frozen=True, slots=True)
class _Entry:
    playbook: Playbook
    symptom: TextSymptom
    conjuncts: tuple[frozenset[str], ...]  # a match contains one literal of EACH set
    caseless: bool

    def admits(self, text: str, lower: str) -> bool:
        """The cheap necessary condition: every required literal set is present."""
        hay = lower if self.caseless else text
        for conj in self.conjuncts:  # loops, not all(any(...)): this runs per candidate
            for lit in conj:
                if lit in hay:
                    break
            else:
                return False
        return True


class _Prefilter(Protocol):
    name: str

    def line(self, text: str) -> set[int]: ...

    def block(self, data: bytes) -> dict[int, set[int]]: ...

    def many(self, texts: list[str]) -> list[set[int]]: ...


class PythonPrefilter:
    """Substring tests in pure Python: always available, the reference for correctness."""

    name = "python"

    def __init__(self, entries: list[_Entry]) -> None:
        self._entries = list(enumerate(entries))

    def line(self, text: str) -> set[int]:
        lower = text.lower()
        return {i for i, e in self._entries if e.admits(text, lower)}

    def block(self, data: bytes) -> dict[int, set[int]]:
        out: dict[int, set[int]] = {}
        start = 0
        for raw in data.split(b"\n"):
            hits = self.line(raw.decode("utf-8", "replace"))
            if hits:
                out[start] = hits
            start += len(raw) + 1
        return out

    def many(self, texts: list[str]) -> list[set[int]]:
        return [self.line(text) for text in texts]


class HyperscanPrefilter:
    """One Hyperscan literal automaton over whole blocks of lines, tuned to the input.

    Each pattern is looked for by ONE of its required literal sets, its anchor. Which set
    is rarest depends on the input (`REPORT RequestId:` is everywhere in Lambda logs,
    `Status: timeout` is not), so every RETUNE blocks one block is scanned for all
    literals, their frequencies are counted and each pattern's anchor is re-chosen.

    Every hit costs a Python callback, and a hostile line can repeat a literal thousands
    of times. A scan that meets more than one hit per DENSE bytes (ordinary logs: one per
    ~450) is stopped and redone line by line, each line finished after HEAVY hits with a
    single-match copy of the automaton, which reports each pattern once; tuning counts at
    most TUNE_HITS hits.
    """

    name = "hyperscan"
    RETUNE = 64          # blocks between re-tunings
    SAMPLE = 512 << 10   # bytes of a block counted when tuning
    TUNE_MIN = 64 << 10  # a smaller block is not tuned on: it scans fast whatever the anchors,
                         # and re-compiling them would cost more than the scan (start-up)
    TUNE_HITS = 16384    # hits counted when tuning (ordinary logs: one per ~30 bytes)
    DENSE = 64           # bytes per hit below which a scan is redone line by line
    HEAVY = 64           # hits in one line before it is finished with the single-match copy

    def __init__(self, entries: list[_Entry]) -> None:
        import hyperscan  # optional native dependency; ImportError selects the fallback

        self._hs = hyperscan
        self._entries = entries
        self._ids: dict[tuple[str, bool], int] = {}
        for entry in entries:
            for conj in entry.conjuncts:
                for lit in conj:
                    self._ids.setdefault((lit, entry.caseless), len(self._ids))
        self._full = self._compile(list(self._ids))
        self._anchors = [0] * len(entries)
        self._anchor_db, self._single_db, self._anchor_owners = self._compile_anchors()
        self._blocks = 0
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

    def _compile(self, keys: list[tuple[str, bool]], single: bool = False) -> Any:
        hs = self._hs
        expressions = [b"".join(b"\\x%02x" % byte for byte in lit.encode("utf-8")) for lit, _ in keys]
        once = hs.HS_FLAG_SINGLEMATCH if single else 0
        flags = [(hs.HS_FLAG_CASELESS if caseless else 0) | once for _, caseless in keys]
        db = hs.Database(mode=hs.HS_MODE_BLOCK)
        db.compile(expressions=expressions, ids=list(range(len(keys))), elements=len(keys), flags=flags)
        return db

    def _compile_anchors(self) -> tuple[Any, Any, list[list[int]]]:
        keys: dict[tuple[str, bool], int] = {}
        owners: list[list[int]] = []
        for i, entry in enumerate(self._entries):
            for lit in entry.conjuncts[self._anchors[i]]:
                key = (lit, entry.caseless)
                if key not in keys:
                    keys[key] = len(owners)
                    owners.append([])
                owners[keys[key]].append(i)
        return self._compile(list(keys)), self._compile(list(keys), single=True), owners

    def _scan(self, db: Any, data: bytes | memoryview, limit: int) -> tuple[list[tuple[int, int]], bool]:
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

    def _retune(self, hits: list[tuple[int, int]]) -> None:
        counts = [0] * len(self._ids)
        for pid, _ in hits:
            counts[pid] += 1
        anchors = []
        for entry in self._entries:
            cost = [sum(counts[self._ids[(lit, entry.caseless)]] for lit in conj)
                    for conj in entry.conjuncts]
            anchors.append(min(range(len(cost)), key=cost.__getitem__))
        if anchors != self._anchors:
            self._anchors = anchors
            self._anchor_db, self._single_db, self._anchor_owners = self._compile_anchors()

    def _once(self, data: bytes | memoryview) -> set[int]:
        """Patterns anchored in `data`, one callback per literal found."""
        owners = self._anchor_owners
        hits, _ = self._scan(self._single_db, data, len(owners))  # one hit per literal at most
        return {i for pid, _ in hits for i in owners[pid]}

    def _by_segment(self, data: bytes, bounds: Callable[[int], tuple[int, int]]) -> dict[int, set[int]]:
        """Patterns anchored in each segment of `data`, keyed by the segment's start.

        `bounds(offset)` is the (start, end) of the segment holding a byte offset; a
        literal never spans two segments.
        """
        out: dict[int, set[int]] = {}
        owners = self._anchor_owners
        heavy = self.HEAVY
        view = memoryview(data)
        base = start = hits = 0
        end = -1  # the current segment is data[start:end]

        def on_match(pid: int, _from: int, to: int, _flags: int, _ctx: Any) -> bool:
            nonlocal start, end, hits
            at = base + to - 1
            if at >= end or at < start:
                start, end = bounds(at)
                hits = 0
            hits += 1
            if hits > heavy:
                return True  # stop: the rest of this segment is read by _once
            found = out.get(start)
            if found is None:
                out[start] = set(owners[pid])
            else:
                found.update(owners[pid])
            return False

        while base < len(data):
            try:
                with self._lock:
                    self._anchor_db.scan(view[base:], match_event_handler=on_match)
                break
            except self._hs.ScanTerminated:
                out[start] |= self._once(view[start:end])
                base = end + 1
        return out

    def line(self, text: str) -> set[int]:
        return self._once(text.encode("utf-8", "surrogatepass"))

    def many(self, texts: list[str]) -> list[set[int]]:
        # One scan over all texts joined; a literal never spans the joint, so each hit
        # belongs to the text whose start offset precedes it.
        encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
        starts, pos = [], 0
        for chunk in encoded:
            starts.append(pos)
            pos += len(chunk) + 1
        data = b"\n".join(encoded)
        hits, complete = self._scan(self._anchor_db, data, self._limit(data))
        if not complete:
            ends = [start + len(chunk) for start, chunk in zip(starts, encoded, strict=True)]

            def bounds(offset: int) -> tuple[int, int]:
                k = bisect.bisect_right(starts, offset) - 1
                return starts[k], ends[k]

            found = self._by_segment(data, bounds)
            return [found.get(start, set()) for start in starts]
        out: list[set[int]] = [set() for _ in texts]
        owners = self._anchor_owners
        for pid, to in hits:
            out[bisect.bisect_right(starts, to - 1) - 1].update(owners[pid])
        return out

    def block(self, data: bytes) -> dict[int, set[int]]:
        if self._blocks % self.RETUNE == 0 and len(data) >= self.TUNE_MIN:
            cut = data.rfind(b"\n", 0, self.SAMPLE)
            sample, _ = self._scan(self._full, data[: cut if cut > 0 else self.SAMPLE], self.TUNE_HITS)
            self._retune(sample)
        self._blocks += 1
        hits, complete = self._scan(self._anchor_db, data, self._limit(data))
        if not complete:

            def bounds(offset: int) -> tuple[int, int]:
                end = data.find(b"\n", offset)
                return data.rfind(b"\n", 0, offset) + 1, len(data) if end < 0 else end

            return self._by_segment(data, bounds)
        out: dict[int, set[int]] = {}
        owners = self._anchor_owners
        rfind = data.rfind
        for pid, to in hits:
            start = rfind(b"\n", 0, to) + 1
            found = out.get(start)
            if found is None:
                out[start] = set(owners[pid])
            else:
                found.update(owners[pid])
        return out


class Matcher:
    """All text symptoms of a catalog, compiled once."""

    def __init__(self, playbooks: Iterable[Playbook], engine: str = "auto") -> None:
        self.entries: list[_Entry] = []
        for playbook in playbooks:
            for symptom in playbook.text_symptoms:
                found, caseless = conjuncts(symptom.pattern, symptom.ignore_case)
                if not found:  # the loader rejects these; skip rather than crash
                    continue
                self.entries.append(_Entry(playbook, symptom, tuple(found), caseless))
        self.prefilter: _Prefilter = self._prefilter(engine)

    def _prefilter(self, engine: str) -> _Prefilter:
        if engine not in ("auto", "hyperscan", "python"):
            raise ValueError(f"unknown matcher engine '{engine}'")
        if engine != "python" and self.entries:
            try:
                return HyperscanPrefilter(self.entries)
            except ImportError:
                if engine == "hyperscan":
                    raise
        return PythonPrefilter(self.entries)

    @property
    def engine(self) -> str:
        return self.prefilter.name

    def match(self, line: str, group: str | None = None) -> list[Match]:
        """Playbooks recognised in one line, most specific first."""
        if len(line) > MAX_LINE:
            line = line[:MAX_LINE]
        return self._confirm(line, self.prefilter.line(line), group)

    def match_many(self, lines: list[str], groups: list[str | None] | None = None) -> list[list[Match]]:
        """`match` for many lines (e.g. a batch of log events) in one prefilter pass."""
        lines = [line[:MAX_LINE] for line in lines]
        candidates = self.prefilter.many(lines)
        groups = groups or [None] * len(lines)
        return [self._confirm(line, found, group) if found else []
                for line, found, group in zip(lines, candidates, groups, strict=True)]

    def scan(self, data: bytes) -> Iterator[tuple[int, str, list[Match]]]:
        """For a block of newline-separated lines: (byte offset of line, text, matches)."""
        candidates = self.prefilter.block(data)
        for start in sorted(candidates):
            end = data.find(b"\n", start)
            raw = data[start:] if end < 0 else data[start:end]
            text = raw.decode("utf-8", "replace").rstrip("\r")
            if len(text) > MAX_LINE:
                text = text[:MAX_LINE]
            matches = self._confirm(text, candidates[start], None)
            if matches:
                yield start, text, matches

    def explain(self, line: str, group: str | None = None) -> list[tuple[Match, TextSymptom]]:
        """Every pattern that matches `line`, best first, with its symptom: the decision
        behind `match`, which keeps the first of each playbook."""
        line = line[:MAX_LINE]
        lower = line.lower()
        found = ((match, self.entries[i].symptom) for i in self.prefilter.line(line)
                 if (match := self._try(self.entries[i], line, lower, group)) is not None)
        return sorted(found, key=lambda pair: _rank(pair[0]))

    def vetoed(self, line: str, group: str | None = None) -> list[Veto]:
        """Patterns whose regex matches `line` but whose `unless` or `compare` vetoes the
        match, best first: what `explain` leaves out, for a user tuning those vetoes."""
        line = line[:MAX_LINE]
        lower = line.lower()
        out: list[Veto] = []
        for i in self.prefilter.line(line):
            entry = self.entries[i]
            symptom = entry.symptom
            if symptom.unless is None and symptom.compare is None:
                continue
            if not entry.admits(line, lower) or not _in_groups(symptom, group):
                continue
            found = symptom.regex.search(line)
            if found is None or symptom.search(line) is not None:
                continue
            by = "unless" if symptom.unless is not None and symptom.unless.search(line) else "compare"
            match = Match(entry.playbook.id, entry.playbook.title, found.start(), found.end(),
                          {k: v for k, v in found.groupdict().items() if v is not None},
                          symptom.priority)
            out.append(Veto(match, symptom, by))
        return sorted(out, key=lambda veto: _rank(veto.match))

    def _confirm(self, line: str, candidates: set[int], group: str | None) -> list[Match]:
        best: dict[str, Match] = {}
        lower = line.lower()
        for i in candidates:
            match = self._try(self.entries[i], line, lower, group)
            if match is None:
                continue
            current = best.get(match.playbook)
            if current is None or _rank(match) < _rank(current):
                best[match.playbook] = match
        return sorted(best.values(), key=_rank)

    @staticmethod
    def _try(entry: _Entry, line: str, lower: str, group: str | None) -> Match | None:
        if not entry.admits(line, lower):
            return None
        symptom = entry.symptom
        if group is not None and symptom.log_groups and not any(
                fnmatch.fnmatchcase(group, g) for g in symptom.log_groups):
            return None
        found = symptom.search(line)
        if found is None:
            return None
        return Match(entry.playbook.id, entry.playbook.title, found.start(), found.end(),
                     {k: v for k, v in found.groupdict().items() if v is not None},
                     symptom.priority)


def _in_groups(symptom: TextSymptom, group: str | None) -> bool:
    """Whether a line from `group` (None: not from a log group) may show this symptom."""
    return group is None or not symptom.log_groups or any(
        fnmatch.fnmatchcase(group, g) for g in symptom.log_groups)


def _rank(match: Match) -> tuple[int, int, str]:
    # Higher priority first, then the longer (more specific) span, then a stable order.
    return (-match.priority, -(match.end - match.start), match.playbook)
