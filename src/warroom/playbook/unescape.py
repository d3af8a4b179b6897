"""The text a structured log line carries: its JSON string escapes read.

Lambda's JSON log format, Powertools and most loggers write a message as a JSON string:
`{"level":"ERROR","message":"... \\"Internal server error\\"","exception":"Traceback
...\\nKeyError: 'TABLE_NAME'"}`. The symptom is in the text the escapes encode, where a
quote is a quote and a `\\n` starts a line (a `^`-anchored pattern must see it at a line's
start). So the matcher also reads that text, line by line, and puts what it finds back on
the line's own characters (`places`), so that a highlight lands on the raw text.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass

# Not `\\b` and `\\f`: no log means a backspace, and a Windows path (`C:\\build`) holds them.
_ESCAPE = re.compile(r'\\(?:u[0-9a-fA-F]{4}|["\\/nrt])')
_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "n": "\n", "r": "\r", "t": "\t"}


@dataclass(frozen=True, slots=True)
class Unescaped:
    """A line's text with its escapes read, and where each character came from."""

    text: str
    places: array  # type: ignore[type-arg] - the raw index of each character, then the raw end

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """The raw line's span of the text's characters start..end."""
        return self.places[start], self.places[end]


def unescaped(line: str) -> Unescaped | None:
    """`line` with its JSON string escapes read (`\\"`, `\\n`, `\\u00e9`...); None when it
    holds none."""
    if "\\" not in line:
        return None
    parts: list[str] = []
    places = array("q")
    pos = 0
    for found in _ESCAPE.finditer(line):
        start = found.start()
        parts.append(line[pos:start])
        places.extend(range(pos, start))
        escape = found.group()
        parts.append(chr(int(escape[2:], 16)) if escape[1] == "u" else _SIMPLE[escape[1]])
        places.append(start)
        pos = found.end()
    if not parts:
        return None
    parts.append(line[pos:])
    places.extend(range(pos, len(line) + 1))
    return Unescaped("".join(parts), places)
