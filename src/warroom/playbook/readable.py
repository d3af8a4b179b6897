"""The text a log line carries, as a pattern expects to read it.

Lambda's JSON log format, Powertools and most loggers write a message as a JSON string:
`{"level":"ERROR","message":"... \\"Internal server error\\"","exception":"Traceback
...\\nKeyError: 'TABLE_NAME'"}`. The symptom is in the text the escapes encode, where a
quote is a quote and a `\\n` starts a line (a `^`-anchored pattern must see it at a line's
start). Terminals and web pages add their own layer: colour codes (`\\x1b[31mError:`),
typographic quotes (“already exists”, ‘index’) and non-breaking spaces. So the matcher also
reads the line with all of that undone, line by line, and puts what it finds back on the
line's own characters (`places`), so that a highlight lands on the raw text. In a line that
holds a JSON object each string, key or value, is read as a line of its own: a pattern written
for a message (`^Value for undeclared variable$`) then holds inside its envelope.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from warroom.playbook.linear import Regex

# A JSON escape (not `\b` and `\f`: no log means a backspace, and a Windows path such as
# `C:\build` holds them), a colour or cursor code (ESC [ ... letter, also written as the
# JSON escape \u001b), or a character pages and editors put for a plain one.
_TYPOGRAPHIC = "[“”„‟″‘’‚‛′\u00a0\u2007\u202f\u200b\ufeff]"
_LAYER = re.compile(r'\\u001[bB]\[[0-9;?]*[A-Za-z]|\x1b\[[0-9;?]*[A-Za-z]'
                    r'|\\(?:u[0-9a-fA-F]{4}|["\\/nrt])|' + _TYPOGRAPHIC)
_TYPOGRAPHIC_CHAR = re.compile(_TYPOGRAPHIC)
# In a line that holds a JSON object, the punctuation around and between its strings (`{"`,
# `":"`, `":3,"`, `"},{"`, `":null}`): there each string, key or value, is read as a line of its
# own, so that a pattern anchored at a message's start or end holds inside an envelope
# (`{"level":"ERROR","message":"..."}`). Inside a JSON string a quote is escaped, so an
# unescaped one is a string's edge. One character class and three words: no backtracking.
_JSON_EDGE = r'\{[\s\[{]*"|"(?:[\s:,\[\]{}\d.eE+-]|true|false|null)*(?:"|$)'
_JSON_LAYER = re.compile(f"{_JSON_EDGE}|{_LAYER.pattern}")
# An envelope holds tens of strings; past this many the line is data, and the rest of it is
# read as one text (so that a hostile line of 100,000 empty strings costs what a plain one does).
MAX_EDGES = 1000
_PLAIN = {'\\"': '"', "\\\\": "\\", "\\/": "/", "\\n": "\n", "\\r": "\r", "\\t": "\t",
          "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "‘": "'", "’": "'", "‚": "'",
          "‛": "'", "′": "'", "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u200b": "", "\ufeff": ""}
# What marks a line that may hold such a layer, as UTF-8 bytes (`Matcher.scan` finds them
# in a block): a backslash, ESC, the lead bytes of U+2000-U+203F (quotes, spaces, primes),
# of U+00A0 and of U+FEFF. A JSON object is no mark: its strings are the raw line's own text,
# which the matcher reads for the few patterns they can decide otherwise (`Matcher._scan`).
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


def escaped(line: str) -> bool:
    """Whether `line` holds a layer other than a JSON object's edges (an escape, a colour
    code, a typographic quote or space)."""
    return ("\\" in line or "\x1b" in line
            or (not line.isascii() and _TYPOGRAPHIC_CHAR.search(line) is not None))


def json_object(line: str) -> bool:
    """Whether `line` may hold a JSON object (after a prefix a logger may put)."""
    return '{"' in line and line.rstrip().endswith("}")


def readable(line: str, objects: bool = True) -> Readable | None:
    """`line` with its JSON escapes read, colour codes dropped, typographic quotes and
    spaces made plain and (with `objects`) a JSON object's strings one a line; None when
    it holds none of them."""
    json = objects and json_object(line)
    if not json and not escaped(line):
        return None  # the common case, decided without the regex
    parts: list[str] = []
    starts, raw_starts = array("q"), array("q")
    size = pos = 0
    for found in _layers(line) if json else _LAYER.finditer(line):
        start = found.start()
        if start > pos:
            starts.append(size)
            raw_starts.append(pos)
            parts.append(line[pos:start])
            size += start - pos
        layer = found.group()
        plain = _PLAIN.get(layer)
        if plain is None and layer[0] in '{"':  # a JSON object's edge: a line break
            plain = "\n"
        elif plain is None:  # a \uXXXX escape, or a colour code (dropped)
            plain = chr(int(layer[2:6], 16)) if layer.startswith("\\u") and "[" not in layer else ""
            plain = _PLAIN.get(plain, plain)  # an escaped typographic quote is one too
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


def _layers(line: str) -> Iterator[re.Match[str]]:
    """The layers of a line that holds a JSON object: its first MAX_EDGES edges too."""
    edges = 0
    for found in _JSON_LAYER.finditer(line):
        if found.group()[0] in '{"':
            edges += 1
            if edges > MAX_EDGES:
                yield from _LAYER.finditer(line, found.start())
                return
        yield found


class Envelope:
    """A line read with its escapes undone but whole: what its pieces (a JSON object's
    strings, the lines its `\\n` escapes encode) are found in. An `unless` reads it, so that
    `"severity":"warning"` still vetoes the summary beside it, and a Go error chain's
    `caused by: AccessDenied` the `WebIdentityErr` line above it. The text is made only when
    a veto first asks (most lines' pieces match nothing), and each veto is looked for in it
    once, however many of its pieces a pattern matches."""

    def __init__(self, line: str) -> None:
        self._line = line
        self._text: str | None = None
        self._held: dict[int, bool] = {}

    @property
    def text(self) -> str:
        if self._text is None:
            view = readable(self._line, objects=False)
            self._text = self._line if view is None else view.text
        return self._text

    def holds(self, regex: Regex) -> bool:
        """Whether `regex` finds its text in the object."""
        held = self._held.get(id(regex))
        if held is None:
            held = self._held[id(regex)] = regex.search(self.text) is not None
        return held


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
