"""Recognising playbook symptoms in text lines.

Two stages. A prefilter finds, for each line, the symptom patterns whose required
literals (see `literals.py`) occur in it; only those patterns then run as Python
regexes, which gives exact spans and named captures. The prefilter is Hyperscan
(one multi-literal automaton over whole blocks of lines) when it is installed, and a
pure-Python substring test otherwise: both must give the same results.
"""

from __future__ import annotations

import bisect
import fnmatch
import threading
from collections.abc import Iterable, Iterator
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
class _Entry:
    playbook: Playbook
    symptom: TextSymptom
    conjuncts: tuple[frozenset[str], ...]  # a match contains one literal of EACH set
    caseless: bool

    def admits(self, text: str, lower: str) -> bool:
        """The cheap necessary condition: every required literal set is present."""
        hay = lower if self.caseless else text
        return all(any(lit in hay for lit in conj) for conj in self.conjuncts)


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
    """

    name = "hyperscan"
    RETUNE = 64          # blocks between re-tunings
    SAMPLE = 512 << 10   # bytes of a block counted when tuning

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
        self._anchor_db, self._anchor_owners = self._compile_anchors()
        self._blocks = 0
        # One scratch space may not be shared by concurrent scans.
        self._lock = threading.Lock()

    def _compile(self, keys: list[tuple[str, bool]]) -> Any:
        hs = self._hs
        expressions = [b"".join(b"\\x%02x" % byte for byte in lit.encode("utf-8")) for lit, _ in keys]
        flags = [hs.HS_FLAG_CASELESS if caseless else 0 for _, caseless in keys]
        db = hs.Database(mode=hs.HS_MODE_BLOCK)
        db.compile(expressions=expressions, ids=list(range(len(keys))), elements=len(keys), flags=flags)
        return db

    def _compile_anchors(self) -> tuple[Any, list[list[int]]]:
        keys: dict[tuple[str, bool], int] = {}
        owners: list[list[int]] = []
        for i, entry in enumerate(self._entries):
            for lit in entry.conjuncts[self._anchors[i]]:
                key = (lit, entry.caseless)
                if key not in keys:
                    keys[key] = len(owners)
                    owners.append([])
                owners[keys[key]].append(i)
        return self._compile(list(keys)), owners

    def _scan(self, db: Any, data: bytes) -> list[tuple[int, int]]:
        hits: list[tuple[int, int]] = []
        add = hits.append

        def on_match(pid: int, _from: int, to: int, _flags: int, _ctx: Any) -> None:
            add((pid, to))

        with self._lock:
            db.scan(data, match_event_handler=on_match)
        return hits

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
            self._anchor_db, self._anchor_owners = self._compile_anchors()

    def line(self, text: str) -> set[int]:
        owners = self._anchor_owners
        hits = self._scan(self._anchor_db, text.encode("utf-8", "surrogatepass"))
        return {i for pid, _ in hits for i in owners[pid]}

    def many(self, texts: list[str]) -> list[set[int]]:
        # One scan over all texts joined; a literal never spans the joint, so each hit
        # belongs to the text whose start offset precedes it.
        encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
        starts, pos = [], 0
        for chunk in encoded:
            starts.append(pos)
            pos += len(chunk) + 1
        out: list[set[int]] = [set() for _ in texts]
        owners = self._anchor_owners
        for pid, to in self._scan(self._anchor_db, b"\n".join(encoded)):
            out[bisect.bisect_right(starts, to - 1) - 1].update(owners[pid])
        return out

    def block(self, data: bytes) -> dict[int, set[int]]:
        if self._blocks % self.RETUNE == 0:
            cut = data.rfind(b"\n", 0, self.SAMPLE)
            self._retune(self._scan(self._full, data[: cut if cut > 0 else self.SAMPLE]))
        self._blocks += 1
        out: dict[int, set[int]] = {}
        owners = self._anchor_owners
        rfind = data.rfind
        for pid, to in self._scan(self._anchor_db, data):
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

    def _confirm(self, line: str, candidates: set[int], group: str | None) -> list[Match]:
        best: dict[str, Match] = {}
        lower = line.lower()
        for i in candidates:
            entry = self.entries[i]
            if not entry.admits(line, lower):
                continue
            symptom = entry.symptom
            if group is not None and symptom.log_groups and not any(
                    fnmatch.fnmatchcase(group, g) for g in symptom.log_groups):
                continue
            found = symptom.regex.search(line)
            if found is None:
                continue
            pid = entry.playbook.id
            match = Match(pid, entry.playbook.title, found.start(), found.end(),
                          {k: v for k, v in found.groupdict().items() if v is not None},
                          symptom.priority)
            current = best.get(pid)
            if current is None or _rank(match) < _rank(current):
                best[pid] = match
        return sorted(best.values(), key=_rank)


def _rank(match: Match) -> tuple[int, int, str]:
    # Higher priority first, then the longer (more specific) span, then a stable order.
    return (-match.priority, -(match.end - match.start), match.playbook)
