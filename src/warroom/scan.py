"""The engine behind `warroom scan`: blocks of lines through the matcher, then output."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterator
from typing import IO, BinaryIO

from warroom.errors import UserError
from warroom.playbook.matcher import Match, Matcher
from warroom.redact import redact, redact_value
from warroom.textout import Paint, dumps, highlight, inert, use_colour

BLOCK = 4 << 20  # bytes read at a time; a block always ends at a line boundary


def blocks(stream: BinaryIO) -> Iterator[bytes]:
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


def scan_stream(matcher: Matcher, stream: BinaryIO) -> Iterator[tuple[int, str, list[Match]]]:
    """(line number from 1, text, matches) for every matching line of a stream."""
    line_base = 0
    for data in blocks(stream):
        pos = 0
        lineno = line_base
        for start, text, matches in matcher.scan(data):
            lineno += data.count(b"\n", pos, start)
            pos = start
            yield lineno + 1, text, matches
        line_base += data.count(b"\n") + 1


class Printer:
    """Text or JSON output for matching lines, and the closing summary."""

    def __init__(self, out: IO[str], as_json: bool, show_file: bool) -> None:
        self.out = out
        self.as_json = as_json
        self.show_file = show_file
        self.paint = Paint(use_colour(out))
        self.counts: Counter[str] = Counter()
        self.titles: dict[str, str] = {}

    def line(self, name: str, lineno: int, text: str, matches: list[Match]) -> None:
        for match in matches[:1]:
            self.counts[match.playbook] += 1
            self.titles[match.playbook] = match.title
        text = redact(text)
        if self.as_json:
            record = {"line": lineno, "text": text,
                      "matches": [redact_value(m.to_json()) for m in matches]}
            if self.show_file:
                record = {"file": name, **record}
            self.out.write(dumps(record) + "\n")
            return
        prefix = f"{inert(name)}:{lineno}: " if self.show_file else f"{lineno}: "
        spans = [(m.start, m.end) for m in matches[:1]]
        self.out.write(self.paint.dim(prefix) + highlight(text, spans, self.paint) + "\n")
        best, others = matches[0], matches[1:]
        also = f"  (also: {', '.join(m.playbook for m in others)})" if others else ""
        self.out.write(f"  → {self.paint.id(best.playbook)}: {best.title}{also}\n")

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
            self.out.write(f"  {count:>7}  {self.paint.id(pid.ljust(width))}  {self.titles[pid]}\n")


def run_scan(args: argparse.Namespace) -> int:
    from warroom.commands.common import catalog

    matcher = Matcher(catalog(args), engine=args.engine)
    files = args.files or ["-"]
    printer = Printer(sys.stdout, args.json, show_file=len(files) > 1)
    failed = False
    for name in files:
        try:
            stream: BinaryIO = sys.stdin.buffer if name == "-" else open(name, "rb")  # noqa: SIM115
        except OSError as exc:
            print(f"warroom: {name}: {exc.strerror}", file=sys.stderr)
            failed = True
            continue
        try:
            for lineno, text, matches in scan_stream(matcher, stream):
                printer.line("(stdin)" if name == "-" else name, lineno, text, matches)
        except OSError as exc:
            raise UserError(f"{name}: {exc.strerror or exc}") from exc
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()
    printer.summary()
    sys.stdout.flush()
    if failed:
        return 2
    return 0 if printer.counts else 1
