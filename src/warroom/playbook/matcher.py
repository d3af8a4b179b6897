"""Recognising playbook symptoms in text lines.

Two stages. A prefilter finds, for each line, the symptom patterns whose required
literals (see `literals.py`) occur in it; only those patterns then run as Python
regexes, which gives exact spans and named captures. The prefilter is Hyperscan
(one multi-literal automaton over whole blocks of lines) when it is installed, and a
pure-Python substring test otherwise: both must give the same results.
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from warroom.playbook.literals import required_literals
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
    literals: frozenset[str]
    caseless: bool


class _Prefilter(Protocol):
    name: str

    def line(self, text: str) -> set[int]: ...

    def block(self, data: bytes) -> dict[int, set[int]]: ...


class PythonPrefilter:
    """Substring tests in pure Python: always available, the reference for correctness."""

    name = "python"

    def __init__(self, entries: list[_Entry]) -> None:
        self._exact = [(i, tuple(e.literals)) for i, e in enumerate(entries) if not e.caseless]
        self._caseless = [(i, tuple(e.literals)) for i, e in enumerate(entries) if e.caseless]

    def line(self, text: str) -> set[int]:
        hits = {i for i, lits in self._exact if any(lit in text for lit in lits)}
        if self._caseless:
            lower = text.lower()
            hits.update(i for i, lits in self._caseless if any(lit in lower for lit in lits))
        return hits

    def block(self, data: bytes) -> dict[int, set[int]]:
        out: dict[int, set[int]] = {}
        start = 0
        for raw in data.split(b"\n"):
            hits = self.line(raw.decode("utf-8", "replace"))
            if hits:
                out[start] = hits
            start += len(raw) + 1
        return out


class HyperscanPrefilter:
    """All literals in one Hyperscan database, scanned over whole blocks of lines."""

    name = "hyperscan"

    def __init__(self, entries: list[_Entry]) -> None:
        import hyperscan  # optional native dependency; ImportError selects the fallback

        self._hs = hyperscan
        keys: dict[tuple[bytes, bool], int] = {}
        self._owners: list[list[int]] = []
        for i, entry in enumerate(entries):
            for lit in entry.literals:
                key = (lit.encode("utf-8"), entry.caseless)
                if key not in keys:
                    keys[key] = len(self._owners)
                    self._owners.append([])
                self._owners[keys[key]].append(i)
        expressions = [b"".join(b"\\x%02x" % byte for byte in lit) for lit, _ in keys]
        flags = [hyperscan.HS_FLAG_CASELESS if caseless else 0 for _, caseless in keys]
        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._db.compile(expressions=expressions, ids=list(range(len(expressions))),
                         elements=len(expressions), flags=flags)
        # One scratch space may not be shared by concurrent scans.
        self._lock = threading.Lock()

    def _scan(self, data: bytes) -> list[tuple[int, int]]:
        hits: list[tuple[int, int]] = []
        add = hits.append

        def on_match(pid: int, _from: int, to: int, _flags: int, _ctx: Any) -> None:
            add((pid, to))

        with self._lock:
            self._db.scan(data, match_event_handler=on_match)
        return hits

    def line(self, text: str) -> set[int]:
        owners = self._owners
        return {i for pid, _ in self._scan(text.encode("utf-8", "surrogatepass")) for i in owners[pid]}

    def block(self, data: bytes) -> dict[int, set[int]]:
        out: dict[int, set[int]] = {}
        owners = self._owners
        rfind = data.rfind
        for pid, to in self._scan(data):
            start = rfind(b"\n", 0, to) + 1
            out.setdefault(start, set()).update(owners[pid])
        return out


class Matcher:
    """All text symptoms of a catalog, compiled once."""

    def __init__(self, playbooks: Iterable[Playbook], engine: str = "auto") -> None:
        self.entries: list[_Entry] = []
        for playbook in playbooks:
            for symptom in playbook.text_symptoms:
                found = required_literals(symptom.pattern, symptom.ignore_case)
                if found is None:  # the loader rejects these; skip rather than crash
                    continue
                literals, caseless = found
                self.entries.append(_Entry(playbook, symptom, literals, caseless))
        self.prefilter: _Prefilter = self._prefilter(engine)

    def _prefilter(self, engine: str) -> _Prefilter:
        if engine not in ("auto", "hyperscan", "python"):
            raise ValueError(f"unknown matcher engine '{engine}'")
        if engine != "python":
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
        for i in candidates:
            entry = self.entries[i]
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
