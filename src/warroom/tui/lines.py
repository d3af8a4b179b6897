"""Untrusted log text turned into Rich `Text` that displays literally.

Text is always built from plain strings (never parsed as markup), secrets are masked,
and every control character (ESC of ANSI/OSC sequences, CR, BEL, ...) becomes a visible
`\\xNN` escape, so nothing in a log line can move the cursor, change colours or open a
link. Match spans computed on the raw message are mapped onto the escaped text.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text

from warroom.incident.records import Record
from warroom.incident.store import short_group
from warroom.redact import redact

# C0 controls except tab, DEL, C1 controls, and the Unicode line/paragraph separators and
# bidi overrides that could reorder or break the displayed line.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def sanitize(message: str) -> tuple[str, list[int] | None]:
    """Redacted, inert text, and a map from raw offsets to display offsets (None: identity)."""
    text = redact(message).replace("\t", " ")  # a tab keeps one cell, so offsets stay valid
    if _CONTROL.search(text) is None:
        return text, None
    out: list[str] = []
    offsets: list[int] = []
    pos = 0
    for char in text:
        offsets.append(pos)
        piece = _escape(char) if _CONTROL.fullmatch(char) else char
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

    @property
    def prefix_width(self) -> int:
        width = 9 if self.time else 0
        if self.group_width:
            width += self.group_width + 1
        if self.stream_width:
            width += self.stream_width + 1
        return width


def clock_text(ms: int) -> str:
    """HH:MM:SS in UTC: the same on every machine, like the CloudWatch API times."""
    return time.strftime("%H:%M:%S", time.gmtime(ms / 1000))


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
        out.append(clock_text(record.timestamp) + " ", styles.get("time"))
    if cols.group_width:
        out.append(_fit(plain(short_group(record.group)), cols.group_width) + " ", styles.get("group"))
    if cols.stream_width:
        out.append(_fit(plain(short_stream(record.stream)), cols.stream_width) + " ",
                   styles.get("stream"))
    return out


def message(record: Record, styles: Mapping[str, Style],
            pattern: re.Pattern[str] | None = None) -> Text:
    """The message with its symptom span and filter matches styled."""
    shown, offsets = sanitize(record.message)
    text = Text(shown, style=styles.get("message", ""), no_wrap=True, end="")
    symptom = styles.get("symptom")
    for match in record.matches[:1]:
        start, end = match.start, min(match.end, len(record.message))
        if offsets is not None:
            start, end = offsets[start], offsets[end]
        if end > start and symptom is not None:
            text.stylize(symptom, start, end)
    if pattern is not None:
        hit = styles.get("match")
        for found in pattern.finditer(shown):
            if found.end() > found.start() and hit is not None:
                text.stylize(hit, found.start(), found.end())
    return text


def marker(record: Record, width: int, styles: Mapping[str, Style]) -> Text:
    label = f" {plain(record.message)} "
    side = max(2, (width - len(label)) // 2)
    return Text("─" * side + label + "─" * max(0, width - side - len(label)),
                style=styles.get("marker", ""), no_wrap=True, end="")


def file_line(record: Record) -> str:
    """A record as one plain line for a saved file."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.timestamp / 1000))
    return f"{stamp}.{record.timestamp % 1000:03d}Z {plain(record.group)} " \
           f"{plain(record.stream)} {plain(record.message)}"
