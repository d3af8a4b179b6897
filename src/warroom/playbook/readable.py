"""The text a log line carries, as a pattern expects to read it.

Lambda's JSON log format, Powertools and most loggers write a message as a JSON string:
`{"level":"ERROR","message":"... \\"Internal server error\\"","exception":"Traceback
...\\nKeyError: 'TABLE_NAME'"}`. The symptom is in the text the escapes encode, where a
quote is a quote and a `\\n` starts a line (a `^`-anchored pattern must see it at a line's
start). Terminals and web pages add their own layer: colour codes (`\\x1b[31mError:`),
typographic quotes (“already exists”, ‘index’) and non-breaking spaces. So the matcher also
reads the line with all of that undone, line by line, and puts what it finds back on the
line's own characters (`places`), so that a highlight lands on the raw text.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

# A JSON escape (not `\b` and `\f`: no log means a backspace, and a Windows path such as
# `C:\build` holds them), a colour or cursor code (ESC [ ... letter, also written as the
# JSON escape \u001b), or a character pages and editors put for a plain one.
_LAYER = re.compile(r'\\u001[bB]\[[0-9;?]*[A-Za-z]|\x1b\[[0-9;?]*[A-Za-z]'
                    r'|\\(?:u[0-9a-fA-F]{4}|["\\/nrt])|[“”„‟″‘’‚‛′\u00a0\u2007\u202f\u200b\ufeff]')
_PLAIN = {'\\"': '"', "\\\\": "\\", "\\/": "/", "\\n": "\n", "\\r": "\r", "\\t": "\t",
          "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "‘": "'", "’": "'", "‚": "'",
          "‛": "'", "′": "'", "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u200b": "", "\ufeff": ""}
# What marks a line that may hold such a layer, as UTF-8 bytes (`Matcher.scan` finds them
# in a block): a backslash, ESC, the lead bytes of U+2000-U+203F (quotes, spaces, primes),
# of U+00A0 and of U+FEFF.
MARKS = (b"\\", b"\x1b", b"\xe2\x80", b"\xc2\xa0", b"\xef\xbb\xbf")


@dataclass(frozen=True, slots=True)
class Readable:
    """A line's text with its layers undone, and where each stretch of it came from."""

    text: str
    # The text is a run of stretches, each copied from the raw line or one character a layer
    # became: where each begins in the text, and in the raw line. Stretches, not characters:
    # a 256 KiB line with two escapes keeps three of them.
    starts: array  # type: ignore[type-arg]
    raw_starts: array  # type: ignore[type-arg]

    def raw_at(self, index: int) -> int:
        """The raw index of the text's character `index` (of the raw end, at the text's end)."""
        run = bisect_right(self.starts, index) - 1
        return self.raw_starts[run] + index - self.starts[run]

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """The raw line's span of the text's characters start..end."""
        return self.raw_at(start), self.raw_at(end)


def readable(line: str) -> Readable | None:
    """`line` with its JSON escapes read, colour codes dropped and typographic quotes and
    spaces made plain; None when it holds none of them."""
    if line.isascii() and "\\" not in line and "\x1b" not in line:
        return None  # the common case, decided without the regex
    parts: list[str] = []
    starts, raw_starts = array("q"), array("q")
    size = pos = 0
    for found in _LAYER.finditer(line):
        start = found.start()
        if start > pos:
            starts.append(size)
            raw_starts.append(pos)
            parts.append(line[pos:start])
            size += start - pos
        layer = found.group()
        plain = _PLAIN.get(layer)
        if plain is None:  # a \uXXXX escape, or a colour code (dropped)
            plain = chr(int(layer[2:6], 16)) if layer.startswith("\\u") and "[" not in layer else ""
        if plain:
            starts.append(size)
            raw_starts.append(start)
            parts.append(plain)
            size += 1
        pos = found.end()
    if pos == 0 and not parts:
        return None
    # The last stretch, even when empty: it maps the text's end onto the raw line's.
    starts.append(size)
    raw_starts.append(pos)
    parts.append(line[pos:])
    return Readable("".join(parts), starts, raw_starts)


def plain(line: str) -> tuple[str, Callable[[int, int], tuple[int, int]]] | None:
    """The plain text `line` carries (its layers undone, or the line itself when it only
    holds line breaks) and how a span of that text maps back onto the line; None when it
    carries nothing but itself."""
    view = readable(line)
    if view is not None:
        return view.text, view.raw_span
    if "\n" in line:
        return line, lambda start, end: (start, end)
    return None


def plain_lines(line: str) -> list[str]:
    """The lines of the plain text `line` carries; [] when it carries nothing but itself."""
    found = plain(line)
    return [piece.rstrip("\r") for piece in found[0].split("\n")] if found else []
