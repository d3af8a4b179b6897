"""Recognising playbook symptoms in text lines.

Two stages. A prefilter finds, for each line, the symptom patterns whose required
literals (see `literals.py`) occur in it; only those patterns then run, on RE2 (see
`linear.py`: time linear in the line whatever the pattern, since log text is untrusted),
which gives exact spans and named captures. The prefilter is Hyperscan (`hsprefilter.py`:
one automaton over whole blocks of lines) when it is installed, and a pure-Python substring test
otherwise: both must give the same results. Where even a pattern's rarest literals are
common in the input (a threshold on the numbers every REPORT line carries), Hyperscan
looks for the regex itself, in prefilter mode: a superset of its matches, never fewer.

A pattern several symptoms share (under different `compare`s) runs once per line for
all of them, and a line is encoded once for all its candidate patterns.

A line is read as written and, when it carries more (JSON escapes, colour codes,
typographic quotes: `readable.py`), as each line of its plain text too; matches found
there are put back on the line's own characters.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from warroom.playbook.anchors import anchored, at_text_end
from warroom.playbook.compare_narrow import narrowed
from warroom.playbook.hsprefilter import HyperscanPrefilter
from warroom.playbook.linear import Found, utf8
from warroom.playbook.literals import conjuncts
from warroom.playbook.model import Playbook, TextSymptom, unpickled_fast
from warroom.playbook.pyprefilter import PythonPrefilter
from warroom.playbook.readable import MARKS, Envelope, escaped, plain

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


@unpickled_fast
@dataclass(frozen=True, slots=True)
class _Entry:
    playbook: Playbook
    symptom: TextSymptom
    conjuncts: tuple[frozenset[str], ...]  # a match contains one literal of EACH set
    caseless: bool
    regex_ready: bool  # Hyperscan may prefilter lines by the regex itself (HyperscanPrefilter)

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

    def block(self, data: bytes, tune: bool = True) -> dict[int, set[int]]: ...

    def many(self, texts: list[str]) -> list[set[int]]: ...


class Matcher:
    """All text symptoms of a catalog, compiled once."""

    def __init__(self, playbooks: Iterable[Playbook], engine: str = "auto") -> None:
        self.entries: list[_Entry] = []
        self._of_playbook: dict[str, list[_Entry]] = {}  # each playbook's symptoms
        for playbook in playbooks:
            for symptom in playbook.text_symptoms:
                found, caseless = conjuncts(symptom.pattern, symptom.ignore_case)
                if not found:  # the loader rejects these; skip rather than crash
                    continue
                entry = _Entry(playbook, symptom, tuple(found), caseless, _regex_ready(symptom.pattern))
                self.entries.append(entry)
                self._of_playbook.setdefault(playbook.id, []).append(entry)
        # The prefilter sees each pattern once, however many symptoms share it (e.g. one
        # REPORT pattern under two compares): a line runs it once for all of them.
        shared: dict[tuple[str, bool], list[int]] = {}
        for i, entry in enumerate(self.entries):
            shared.setdefault((entry.symptom.pattern, entry.symptom.ignore_case), []).append(i)
        self._members = list(shared.values())
        self._leads = [self.entries[members[0]] for members in self._members]
        # Patterns whose every symptom has a compare (a threshold on every REPORT line): a
        # line only they are candidates for is dropped in one pass over its matches when no
        # compare holds (`_none_held`); an `unless` can only veto more, so it may have one.
        self._compared = frozenset(
            pattern for pattern, members in enumerate(self._members)
            if all(self.entries[i].symptom.compare is not None for i in members))
        # Patterns a JSON object's strings, each read as a line, may decide otherwise than
        # the raw line (`_strings`): an anchored one, and one under a veto a string may
        # hold alone. A string is text of the raw line, bounded there by punctuation, so an
        # unanchored pattern matches a string only where its regex matches the raw line.
        self._anchored = frozenset(
            pattern for pattern, lead in enumerate(self._leads) if anchored(lead.symptom.pattern))
        self._contextual = self._anchored | frozenset(
            pattern for pattern, members in enumerate(self._members)
            if any(self.entries[i].symptom.unless is not None or self.entries[i].symptom.compare is not None
                   for i in members))
        # What Hyperscan looks for instead of such a pattern, by regex from the start:
        # lines where a compare can hold (`compare_narrow.py`).
        self._narrowed: dict[int, str] = {}
        for pattern in self._compared:
            compares = [c for i in self._members[pattern] if (c := self.entries[i].symptom.compare)]
            if (regex := narrowed(self._leads[pattern].symptom.pattern, compares)) is not None:
                self._narrowed[pattern] = regex
        self.prefilter: _Prefilter = self._prefilter(engine)

    def _prefilter(self, engine: str) -> _Prefilter:
        if engine not in ("auto", "hyperscan", "python"):
            raise ValueError(f"unknown matcher engine '{engine}'")
        if engine != "python" and self._leads:
            try:
                return HyperscanPrefilter(self._leads, self._narrowed)
            except ImportError:
                if engine == "hyperscan":
                    raise
        return PythonPrefilter(self._leads)

    @property
    def engine(self) -> str:
        return self.prefilter.name

    def match(self, line: str, group: str | None = None) -> list[Match]:
        """Playbooks recognised in one line, most specific first."""
        if len(line) > MAX_LINE:
            line = line[:MAX_LINE]
        found = self.prefilter.line(line)
        return self._with_view(line, self._confirm(line, found, group), group, found)

    def match_many(self, lines: list[str], groups: list[str | None] | None = None) -> list[list[Match]]:
        """`match` for many lines (e.g. a batch of log events) in one prefilter pass."""
        lines = [line[:MAX_LINE] for line in lines]
        candidates = self.prefilter.many(lines)
        groups = groups or [None] * len(lines)
        return [self._with_view(line, self._confirm(line, found, group) if found else [], group, found)
                for line, found, group in zip(lines, candidates, groups, strict=True)]

    def scan(self, data: bytes) -> Iterator[tuple[int, str, list[Match]]]:
        """For a block of newline-separated lines: (byte offset of line, text, matches)."""
        return self._scan(data, None)

    def _scan(self, data: bytes, group: str | None, views: bool = True,
              within: Envelope | None = None) -> Iterator[tuple[int, str, list[Match]]]:
        """`scan`, or without `views` the scan of the plain text a line carries (`within`:
        the JSON object it is the strings of, for `TextSymptom.ruled_out`)."""
        # A line's own text is no sample of the input to tune the anchors on.
        candidates = self.prefilter.block(data, tune=views)
        layered = _layered_lines(data) if views else set()
        find = data.find
        compared, contextual = self._compared, self._contextual
        for start in sorted(candidates.keys() | layered) if layered else sorted(candidates):
            end = find(b"\n", start)
            raw = data[start:] if end < 0 else data[start:end]
            found = candidates.get(start)
            if raw.isascii():  # its bytes are the text's UTF-8: RE2 reads them as they are
                raw = raw.rstrip(b"\r")[:MAX_LINE]
                text = raw.decode("ascii")
                if not found:
                    matches = []
                elif (len(found) == 1 and compared and start not in layered and b'{"' not in raw
                        and self._none_held(next(iter(found)), text, raw)):
                    continue
                else:
                    matches = self._confirm(text, found, group, raw, within)
            else:
                text = raw.decode("utf-8", "replace").rstrip("\r")[:MAX_LINE]
                matches = self._confirm(text, found, group, None, within) if found else []
            # A JSON object's strings can only add what a contextual candidate finds (`_with_view`).
            if start in layered or (views and found and b'{"' in raw and not contextual.isdisjoint(found)):
                matches = self._with_view(text, matches, group, found)
            if matches:
                yield start, text, matches

    def _with_view(self, line: str, found: list[Match], group: str | None,
                   candidates: set[int] | None) -> list[Match]:
        """`found` and what the text the line carries shows (`readable.py`): its escapes
        read, colour codes and typographic quotes undone, each of its lines matched, spans
        put back on the line's characters; the best match of each playbook. `candidates`:
        the patterns the prefilter found in the raw line."""
        # A JSON object with nothing else to undo splits into its strings, each of them
        # text of the raw line: a pattern none of whose literals are in the line matches
        # none of them (nor, looked for by its regex, one with a `^`: `without_line_starts`).
        json_only = not escaped(line)
        if json_only:
            candidates = candidates & self._contextual if candidates else None
            if not candidates:
                return found
        carried = plain(line)
        if carried is None:
            return found
        if json_only:
            candidates = {pattern for pattern in candidates
                          if pattern in self._anchored or self._leads[pattern].symptom.regex.search(line)}
            if not candidates:
                return found
        text, back = carried
        data = text.encode("utf-8", "surrogatepass")
        best = {match.playbook: match for match in found}
        seen: set[str] = set()  # playbooks the plain text shows
        at_byte = at_char = 0  # a line's byte offset to its character offset, in order
        within = Envelope(line)
        views = (self._strings(text, candidates, group, within) if json_only and candidates
                 else self._scan(data, group, views=False, within=within))
        for start, _, matches in views:
            at_char += len(data[at_byte:start].decode("utf-8", "surrogatepass"))
            at_byte = start
            for one in matches:
                seen.add(one.playbook)
                first, last = back(at_char + one.start, at_char + one.end)
                mapped = replace(one, start=first, end=last)
                current = best.get(one.playbook)
                if current is None or _rank(mapped) < _rank(current):
                    best[one.playbook] = mapped
        for playbook in best.keys() - seen:
            if self._vetoed_beneath(line, text, playbook, group):
                del best[playbook]
        return sorted(best.values(), key=_rank)

    def _strings(self, text: str, candidates: set[int], group: str | None,
                 within: Envelope | None) -> Iterator[tuple[int, str, list[Match]]]:
        """`_scan` of a JSON object's strings (`text`, one a line) for the raw line's
        candidate patterns, each at its byte offset in `text`'s UTF-8."""
        start = 0
        for piece in text.split("\n"):
            data, valid = utf8(piece)  # one encoding serves the offset and every candidate
            if piece and (matches := self._confirm(piece, candidates, group, data if valid else None, within)):
                yield start, piece, matches
            start += len(data) + 1

    def _vetoed_beneath(self, line: str, text: str, playbook: str, group: str | None) -> bool:
        """Whether every symptom of `playbook` that matches the raw line is one the plain
        `text` it carries vetoes: an `unless` written for the message (`^\\s*0 errors`) must
        hold under a colour code or a JSON envelope too. A symptom the plain text does not
        match at all (a pattern written for the escapes) keeps its raw match."""
        pieces = [piece.rstrip("\r") for piece in text.split("\n")]
        vetoed = False
        for entry in self._of_playbook[playbook]:
            symptom = entry.symptom
            if not _in_groups(symptom, group) or symptom.search(line) is None:
                continue
            if symptom.unless is None and symptom.compare is None:
                return False
            if not any(symptom.regex.search(piece) for piece in pieces):
                return False
            vetoed = True
        return vetoed

    def _none_held(self, pattern: int, text: str, data: bytes) -> bool:
        """Whether no compare of a `_compared` pattern's symptoms holds for any of its
        matches in an ASCII line: then none of them matches (`TextSymptom.search`)."""
        if pattern not in self._compared:
            return False
        compares = [self.entries[i].symptom.compare for i in self._members[pattern]]
        regex = self._leads[pattern].symptom.regex
        for found in regex.finditer(text, data):
            for compare in compares:
                if compare.holds(found):  # type: ignore[union-attr] - all have one
                    return False
        return True

    def _symptoms(self, candidates: set[int]) -> list[_Entry]:
        """The symptoms behind the prefilter's candidate patterns."""
        return [self.entries[i] for k in sorted(candidates) for i in self._members[k]]

    def explain(self, line: str, group: str | None = None) -> list[tuple[Match, TextSymptom]]:
        """Every pattern that matches `line` (or a line of the text it encodes), best first,
        with its symptom: the decision behind `match`, which keeps the first of each playbook."""
        found: dict[int, tuple[Match, TextSymptom]] = {}  # each symptom's best, in any piece
        within = Envelope(line[:MAX_LINE])
        for n, (piece, back) in enumerate(_pieces(line[:MAX_LINE])):
            lower = piece.lower()
            for entry in self._symptoms(self.prefilter.line(piece)):
                # The raw line (piece 0) is read alone, as `match` reads it.
                if (match := self._try(entry, piece, lower, group, within if n else None)) is not None:
                    match, seen = back(match), found.get(id(entry))
                    if seen is None or _rank(match) < _rank(seen[0]):
                        found[id(entry)] = (match, entry.symptom)
        # A raw reading the plain text vetoes beneath is no part of the decision (`vetoed` shows it).
        kept = {match.playbook for match in self.match(line, group)}
        return sorted((pair for pair in found.values() if pair[0].playbook in kept), key=lambda pair: _rank(pair[0]))

    def vetoed(self, line: str, group: str | None = None) -> list[Veto]:
        """Patterns whose regex matches `line` (or a line of the text it encodes) but whose
        `unless` or `compare` vetoes the match, best first: what `explain` leaves out, for a
        user tuning those vetoes."""
        out: dict[int, Veto] = {}  # each symptom's first, in any piece
        within = Envelope(line[:MAX_LINE])
        for n, (piece, back) in enumerate(_pieces(line[:MAX_LINE])):
            context = within if n else None
            lower = piece.lower()
            for entry in self._symptoms(self.prefilter.line(piece)):
                symptom = entry.symptom
                if symptom.unless is None and symptom.compare is None:
                    continue
                if not entry.admits(piece, lower) or not _in_groups(symptom, group):
                    continue
                found = symptom.regex.search(piece)
                if found is None or symptom.search(piece, within=context) is not None:
                    continue
                by = "unless" if symptom.ruled_out(piece, within=context) else "compare"
                out.setdefault(id(entry), Veto(back(_match_of(entry.playbook, symptom, found)), symptom, by))
        return sorted(out.values(), key=lambda veto: _rank(veto.match))

    def _confirm(self, line: str, candidates: set[int], group: str | None,
                 data: bytes | None = None, within: Envelope | None = None) -> list[Match]:
        """The best match of each playbook among the candidate patterns.

        `data`, the line's UTF-8 (encoded here when not given), serves every candidate:
        one encoding per line, not one per pattern run. `within`: the JSON object `line` is
        a string of (`TextSymptom.ruled_out`).
        """
        if data is None:
            data, valid = utf8(line)
            if not valid:  # a lone surrogate: each search encodes it as it must
                data = None
        best: dict[str, Match] = {}
        entries = self.entries
        leads = self._leads
        lower = None
        # In pattern order: of two equally ranked matches the first pattern's wins,
        # whichever other candidates the prefilter let through.
        for pattern in sorted(candidates) if len(candidates) > 1 else candidates:
            lead = leads[pattern]
            if lead.caseless and lower is None:
                lower = line.lower()
            if not lead.admits(line, lower):  # type: ignore[arg-type] - set when caseless
                continue
            members = self._members[pattern]
            found_all = None  # the pattern's matches, found once for symptoms sharing it
            for i in members:
                entry = entries[i]
                symptom = entry.symptom
                if group is not None and not _in_groups(symptom, group):
                    continue
                if len(members) == 1 or symptom.compare is None:
                    found = symptom.search(line, data, within)
                elif symptom.ruled_out(line, data, within):
                    continue
                else:
                    if found_all is None:
                        found_all = list(symptom.regex.finditer(line, data))
                    found = symptom.held(found_all)
                if found is None:
                    continue
                match = _match_of(entry.playbook, symptom, found)
                current = best.get(match.playbook)
                if current is None or _rank(match) < _rank(current):
                    best[match.playbook] = match
        return sorted(best.values(), key=_rank)

    @staticmethod
    def _try(entry: _Entry, line: str, lower: str, group: str | None, within: Envelope | None) -> Match | None:
        if not entry.admits(line, lower) or not _in_groups(entry.symptom, group):
            return None
        found = entry.symptom.search(line, within=within)
        return None if found is None else _match_of(entry.playbook, entry.symptom, found)


def _regex_ready(pattern: str) -> bool:
    """Whether Hyperscan reading a line's bytes finds every match RE2 finds in its text,
    for ASCII lines: an ASCII pattern with no anchor at the end of the text."""
    return pattern.isascii() and not at_text_end(pattern)


def _pieces(line: str) -> list[tuple[str, Callable[[Match], Match]]]:
    """The line, then each line of the plain text it carries (`readable.py`), each with how
    a match in it is put back on the line's characters."""
    out: list[tuple[str, Callable[[Match], Match]]] = [(line, lambda match: match)]
    carried = plain(line)
    if carried is None:
        return out
    text, back = carried
    base = 0
    for piece in text.split("\n"):
        def put_back(match: Match, base: int = base) -> Match:
            start, end = back(base + match.start, base + match.end)
            return replace(match, start=start, end=end)
        out.append((piece.rstrip("\r"), put_back))
        base += len(piece) + 1
    return out


def _layered_lines(data: bytes) -> set[int]:
    """The start of each line of a block that may hold a layer `readable` undoes."""
    out: set[int] = set()
    find, rfind, at = data.find, data.rfind, data.startswith
    for mark in MARKS:
        # Looking for a mark's first byte is memchr, hundreds of times faster than
        # looking for the whole mark in a block that has none.
        lead = mark[:1]
        pos = find(lead)
        while pos >= 0:
            if not at(mark, pos):
                pos = find(lead, pos + 1)
                continue
            out.add(rfind(b"\n", 0, pos) + 1)
            end = find(b"\n", pos)
            if end < 0:
                break
            pos = find(lead, end)
    return out


def _match_of(playbook: Playbook, symptom: TextSymptom, found: Found) -> Match:
    """The match a symptom's regex found, with its captures that took part."""
    return Match(playbook.id, playbook.title, found.start(), found.end(),
                 {k: v for k, v in found.groupdict().items() if v is not None}, symptom.priority)


def _in_groups(symptom: TextSymptom, group: str | None) -> bool:
    """Whether a line from `group` (None: not from a log group) may show this symptom."""
    return group is None or not symptom.log_groups or any(
        fnmatch.fnmatchcase(group, g) for g in symptom.log_groups)


def _rank(match: Match) -> tuple[int, int, str]:
    # Higher priority first, then the longer (more specific) span, then a stable order.
    return (-match.priority, -(match.end - match.start), match.playbook)
