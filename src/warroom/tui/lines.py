"""Untrusted log text turned into Rich `Text` that displays literally.

Text is always built from plain strings (never parsed as markup), secrets are masked,
and every control character (ESC of ANSI/OSC sequences, CR, BEL, ...) becomes a visible
`\\xNN` escape, so nothing in a log line can move the cursor, change colours or open a
link; the one exception is `\\n` in an event, which starts a continuation line of it.
Match spans computed on the raw message are mapped onto the escaped text.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text

from warroom.incident.records import Record
from warroom.incident.store import short_group
from warroom.redact import redact
from warroom.tui import jsonlog
from warroom.textout import UNSAFE, escape_char

if TYPE_CHECKING:
    from warroom.tui.logmodel import Pattern


def sanitize(message: str) -> tuple[str, list[int] | None]:
    """Redacted, inert text, and a map from raw offsets to display offsets (None: identity)."""
    text = redact(message).replace("\t", " ")  # a tab keeps one cell, so offsets stay valid
    if UNSAFE.search(text) is None:
        return text, None
    out: list[str] = []
    offsets: list[int] = []
    pos = 0
    for char in text:
        offsets.append(pos)
        piece = escape_char(char) if UNSAFE.fullmatch(char) else char
        out.append(piece)
        pos += len(piece)
    offsets.append(pos)
    return "".join(out), offsets


def plain(message: str) -> str:
    """Display form of untrusted text, without styles (for labels, titles, files)."""
    return sanitize(message)[0]


def safe(message: str, style: str | Style = "") -> Text:
    """A Text for untrusted content: literal, redacted, inert."""
    return Text(plain(message), style=style, no_wrap=True, end="")


@dataclass(frozen=True)
class Columns:
    """Which prefix columns a log line has and how wide they are."""

    time: bool = True
    group_width: int = 22
    stream_width: int = 0
    local_time: bool = False

    @property
    def prefix_width(self) -> int:
        width = 9 if self.time else 0
        if self.group_width:
            width += self.group_width + 1
        if self.stream_width:
            width += self.stream_width + 1
        return width


def clock_text(ms: int, local: bool = False) -> str:
    """HH:MM:SS in UTC (the same on every machine, like the CloudWatch API times) or local time."""
    return time.strftime("%H:%M:%S", (time.localtime if local else time.gmtime)(ms / 1000))


def _fit(text: str, width: int) -> str:
    if len(text) <= width:
        return text.ljust(width)
    return text[: max(0, width - 1)] + "…"


def short_stream(stream: str) -> str:
    """`2024/05/01/[$LATEST]3f9c0b6e...` -> `3f9c0b6e...`: the part that tells streams apart."""
    return stream.rsplit("]", 1)[-1].rsplit("/", 1)[-1]


def prefix(record: Record, cols: Columns, styles: Mapping[str, Style]) -> Text:
    out = Text(no_wrap=True, end="")
    if cols.time:
        out.append(clock_text(record.timestamp, cols.local_time) + " ", styles.get("time"))
    if cols.group_width:
        out.append(_fit(plain(short_group(record.group)), cols.group_width) + " ", styles.get("group"))
    if cols.stream_width:
        out.append(_fit(plain(short_stream(record.stream)), cols.stream_width) + " ",
                   styles.get("stream"))
    return out


MAX_EVENT_LINES = 200  # rows one event may take before the rest is counted, not shown


def event_lines(record: Record, styles: Mapping[str, Style], pattern: Pattern | None = None,
                raw_json: bool = False) -> list[Text]:
    """The message as display lines, a `\\n` in it starting the next; symptom and matches styled.

    A JSON event reads `LEVEL message key=value...` (level coloured) unless `raw_json`.
    Secrets are masked on the whole event first: a key split over lines is still one secret.
    """
    text = redact(record.message)
    spans = [(m.start, min(m.end, len(text))) for m in record.matches[:1]]
    level, family = 0, ""
    event = None if raw_json else jsonlog.parse(text)
    if event is not None:
        spans = [found for a, b in spans if (found := jsonlog.locate(text[a:b], event.text))]
        text, level, family = event.text, len(event.level), event.family
    text = text.removesuffix("\n")  # CloudWatch keeps the newline that ended the print
    base, symptom, hit = styles.get("message", ""), styles.get("symptom"), styles.get("match")
    out: list[Text] = []
    start = 0
    pieces = text.split("\n", MAX_EVENT_LINES)
    more = pieces.pop().count("\n") + 1 if len(pieces) > MAX_EVENT_LINES else 0
    for piece in pieces:
        end = start + len(piece)
        shown, offsets = sanitize(piece)
        line = Text(shown, style=base, no_wrap=True, end="")
        if level and start == 0 and styles.get(f"level-{family}") is not None:
            line.stylize(styles[f"level-{family}"], 0, level)
        for a, b in spans:
            a, b = max(a, start) - start, min(b, end) - start
            if offsets is not None and b > a:
                a, b = offsets[a], offsets[b]
            if b > a and symptom is not None:
                line.stylize(symptom, a, b)
        if pattern is not None and hit is not None:
            for found in pattern.finditer(shown):
                if found.end() > found.start():
                    line.stylize(hit, found.start(), found.end())
        out.append(line)
        start = end + 1
    if more:  # a hostile event of many line breaks stays a screenful (c copies all of it)
        out.append(Text(f"… {more:,} more lines", style=styles.get("time", ""), end=""))
    return out


def marker(record: Record, width: int, styles: Mapping[str, Style]) -> Text:
    label = f" {plain(record.message)} "
    side = max(2, (width - len(label)) // 2)
    return Text("─" * side + label + "─" * max(0, width - side - len(label)),
                style=styles.get("marker", ""), no_wrap=True, end="")


def copy_text(record: Record, local: bool = False) -> str:
    """A record as the clipboard gets it: time, group and the message with its line breaks."""
    when = time.strftime("%Y-%m-%dT%H:%M:%S", (time.localtime if local else time.gmtime)(
        record.timestamp / 1000)) + ("" if local else "Z")
    body = "\n".join(plain(piece) for piece in redact(record.message).removesuffix("\n").split("\n"))
    return f"{when} {plain(record.group)} {body}"


def file_line(record: Record) -> str:
    """A record as one plain line for a saved file."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.timestamp / 1000))
    return f"{stamp}.{record.timestamp % 1000:03d}Z {plain(record.group)} " \
           f"{plain(record.stream)} {plain(record.message)}"
