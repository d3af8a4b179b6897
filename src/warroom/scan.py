"""The engine behind `warroom scan`: blocks of lines through the matcher, then output."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterator
from typing import IO, BinaryIO, Protocol

from warroom.errors import UserError
from warroom.playbook.matcher import MAX_LINE, Match, Matcher, Veto
from warroom.playbook.model import TextSymptom
from warroom.redact import redact, redact_captures
from warroom.textout import Paint, dumps, highlight, inert, use_colour

BLOCK = 4 << 20  # bytes read at a time; a block always ends at a line boundary


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def blocks(stream: Readable) -> Iterator[bytes]:
    """Whole lines, in blocks of about BLOCK bytes (a longer line makes a longer block)."""
    tail = b""
    while True:
        chunk = stream.read(BLOCK)
        if not chunk:
            break
        data = tail + chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            tail = data
            continue
        tail = data[cut + 1:]
        yield data[:cut]
    if tail:
        yield tail


def scan_stream(matcher: Matcher, stream: Readable,
                counted: list[int] | None = None) -> Iterator[tuple[int, str, list[Match]]]:
    """(line number from 1, text, matches) for every matching line of a stream; the number
    of lines read is appended to `counted` at the end."""
    lineno = 0  # of the line before the last match, then before the next block
    for data in blocks(stream):
        pos = 0
        for start, text, matches in matcher.scan(data):
            lineno += data.count(b"\n", pos, start)
            pos = start
            yield lineno + 1, text, matches
        lineno += data.count(b"\n", pos) + 1  # the rest of the block: each newline counted once
    if counted is not None:
        counted.append(lineno)


def explain_stream(matcher: Matcher, stream: Readable) -> Iterator[tuple[int, str, list[Match]]]:
    """`scan_stream` for --explain: also the lines whose every match was vetoed (with no
    matches), so a user tuning an `unless` or `compare` sees what it silenced. Line by
    line, so slower than the block scan; explaining is for a few lines."""
    lineno = 0
    for data in blocks(stream):
        for raw in data.split(b"\n"):
            lineno += 1
            text = raw.decode("utf-8", "replace").rstrip("\r")[:MAX_LINE]
            matches = matcher.match(text)
            if matches or matcher.vetoed(text):
                yield lineno, text, matches


class Printer:
    """Text or JSON output for matching lines, and the closing summary."""

    def __init__(self, out: IO[str], as_json: bool, show_file: bool,
                 explain: Matcher | None = None) -> None:
        self.out = out
        self.as_json = as_json
        self.show_file = show_file
        self.explain = explain  # the matcher whose every matching pattern is shown
        self.paint = Paint(use_colour(out))
        self.counts: Counter[str] = Counter()
        self.titles: dict[str, str] = {}

    def line(self, name: str, lineno: int, text: str, matches: list[Match]) -> None:
        for match in matches[:1]:
            self.counts[match.playbook] += 1
            self.titles[match.playbook] = match.title
        if self.as_json:
            found = [{**m.to_json(), "captures": redact_captures(text, m.start, m.end, m.captures)}
                     for m in matches]
            record = {"line": lineno, "text": redact(text), "matches": found}
            if self.explain is not None:
                why = self.explain.explain(text)
                record["explain"] = [_why_json(m, s, i == 0) for i, (m, s) in enumerate(why)]
                record["explain"] += [_veto_json(v) for v in self.explain.vetoed(text)]
            if self.show_file:
                record = {"file": name, **record}
            self.out.write(dumps(record) + "\n")
            return
        prefix = f"{inert(name)}:{lineno}: " if self.show_file else f"{lineno}: "
        spans = [(m.start, m.end) for m in matches[:1]]
        self.out.write(self.paint.dim(prefix) + highlight(redact(text), spans, self.paint) + "\n")
        if matches:
            best, others = matches[0], matches[1:]
            also = f"  (also: {', '.join(m.playbook for m in others)})" if others else ""
            self.out.write(f"  → {self.paint.id(best.playbook)}: {inert(best.title)}{also}\n")
        else:
            self.out.write("  → no playbook: every pattern that matched was vetoed\n")
        if self.explain is not None:
            self._why(self.explain.explain(text))
            self._vetoed(self.explain.vetoed(text))

    def _why(self, found: list[tuple[Match, TextSymptom]]) -> None:
        """Each pattern that matched, the chosen one first, and why each other one lost."""
        for i, (match, symptom) in enumerate(found):
            label = "chosen" if i == 0 else "lower "
            reason = "" if i == 0 else f"  ({_lost(match, found[0][0])})"
            self.out.write(f"    {label} {self.paint.id(match.playbook)}  {_where(symptom)}  priority "
                           f"{match.priority}  columns {match.start + 1}-{match.end}{reason}\n")
            self.out.write(f"           {self.paint.dim('pattern:')} {inert(symptom.pattern)}\n")

    def _vetoed(self, vetoes: list[Veto]) -> None:
        """Each pattern that matched but was vetoed, with the veto that ruled it out."""
        for veto in vetoes:
            match, symptom = veto.match, veto.symptom
            self.out.write(f"    vetoed {self.paint.id(match.playbook)}  {_where(symptom)}  priority "
                           f"{match.priority}  columns {match.start + 1}-{match.end}  ({_veto_reason(veto)})\n")
            self.out.write(f"           {self.paint.dim('pattern:')} {inert(symptom.pattern)}\n")
            if veto.by == "unless" and symptom.unless is not None:
                self.out.write(f"           {self.paint.dim('unless:')} {inert(symptom.unless.pattern)}\n")

    def summary(self) -> None:
        if self.as_json:
            return
        total = sum(self.counts.values())
        if not total:
            self.out.write("no known symptoms found\n")
            return
        self.out.write(f"\n{total} line(s) matched {len(self.counts)} playbook(s):\n")
        width = max(len(pid) for pid in self.counts)
        for pid, count in self.counts.most_common():
            self.out.write(f"  {count:>7}  {self.paint.id(pid.ljust(width))}  {inert(self.titles[pid])}\n")


def _where(symptom: TextSymptom) -> str:
    return inert(f"{symptom.where.file}:{symptom.where.line}") if symptom.where else "?"


def _lost(match: Match, chosen: Match) -> str:
    """Why `match` ranks below `chosen` (the matcher's order: priority, span length, id)."""
    if match.playbook == chosen.playbook:
        return "another pattern of the same playbook"
    if match.priority != chosen.priority:
        return f"lower priority: {match.priority} < {chosen.priority}"
    length, best = match.end - match.start, chosen.end - chosen.start
    if length != best:
        return f"same priority, shorter match: {length} < {best} characters"
    return "same priority and match length: ids in alphabetical order"


def _veto_reason(veto: Veto) -> str:
    """`vetoed by unless (FILE:LINE)`, or the comparison that failed with the values it saw."""
    compare = veto.symptom.compare
    if veto.by == "unless" or compare is None:
        return f"vetoed by unless ({_where(veto.symptom)})"
    captures = veto.match.captures
    seen = ", ".join(f"{name}={inert(redact(captures[name]))}" if name in captures else f"{name} absent"
                     for name in (compare.left, compare.right))
    return f"vetoed by compare {compare.left} {compare.op} {compare.right}: {seen}"


def _veto_json(veto: Veto) -> dict[str, object]:
    record = {**_why_json(veto.match, veto.symptom, False), "vetoed": veto.by}
    if veto.by == "unless" and veto.symptom.unless is not None:
        record["unless"] = veto.symptom.unless.pattern
    elif veto.symptom.compare is not None:
        compare = veto.symptom.compare
        record["compare"] = f"{compare.left} {compare.op} {compare.right}"
    return record


def _why_json(match: Match, symptom: TextSymptom, chosen: bool) -> dict[str, object]:
    where = symptom.where
    return {"playbook": match.playbook, "file": where.file if where else None,
            "line": where.line if where else None, "pattern": symptom.pattern,
            "priority": match.priority, "start": match.start, "end": match.end, "chosen": chosen}


def run_scan(args: argparse.Namespace) -> int:
    from warroom.playbook.cache import ScanCache
    from warroom.scan_pieces import cores, pieces, scan_pieces

    slot = ScanCache.of(args.settings.playbook_dirs, args.engine)
    matcher, problems = slot.load()
    for problem in problems:
        print(f"warroom: skipped: {problem}", file=sys.stderr)
    files = args.files or ["-"]
    printer = Printer(sys.stdout, args.json, show_file=len(files) > 1,
                      explain=matcher if args.explain else None)
    failed = False
    for name in files:
        try:
            stream: BinaryIO = sys.stdin.buffer if name == "-" else open(name, "rb")  # noqa: SIM115
        except OSError as exc:
            print(f"warroom: {name}: {exc.strerror}", file=sys.stderr)
            failed = True
            continue
        ranges = [] if args.explain or name == "-" else pieces(name, cores())
        try:
            if ranges:
                found = scan_pieces(matcher, name, ranges)
            else:
                found = (explain_stream if args.explain else scan_stream)(matcher, stream)
            for lineno, text, matches in found:
                printer.line("(stdin)" if name == "-" else name, lineno, text, matches)
        except OSError as exc:
            raise UserError(f"{name}: {exc.strerror or exc}") from exc
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()
    printer.summary()
    sys.stdout.flush()
    slot.keep_tuned(matcher, problems)
    if failed:
        return 2
    return 0 if printer.counts else 1
