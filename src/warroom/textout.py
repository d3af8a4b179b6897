"""Plain-terminal output helpers: colour only on a TTY, and inert untrusted text."""

from __future__ import annotations

import json
import os
import re
from typing import IO, Any

# What untrusted text may not put on a terminal raw. C0 controls except tab, DEL and C1
# controls start escape sequences. The rest are invisible yet change what a reader sees:
# line/paragraph separators, lone surrogates, and every format character (Unicode Cf):
# bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069) that reorder a line,
# zero-width spaces and joiners (U+200B-200F, U+2060-2064), the BOM, soft hyphen and the
# tag characters (U+E0000 block) that can carry hidden text.
UNSAFE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff"
    "\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]")


def escape_char(char: str) -> str:
    """A visible escape for one character: \\xNN, \\uNNNN or \\UNNNNNNNN."""
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def inert(text: str) -> str:
    """Make untrusted text safe to print: unsafe characters (see UNSAFE) become visible escapes."""
    return UNSAFE.sub(lambda m: escape_char(m.group()), text)


def use_colour(stream: IO[str]) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


class Paint:
    """ANSI styles that collapse to nothing when colour is off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled and text else text

    def hit(self, text: str) -> str:
        return self(text, "1;31")

    def id(self, text: str) -> str:
        return self(text, "36")

    def dim(self, text: str) -> str:
        return self(text, "2")


def escape_c1(json_text: str) -> str:
    """JSON text in which the unsafe characters that json leaves raw (DEL, C1 controls,
    invisible format characters) are written as JSON \\u escapes."""
    return UNSAFE.sub(lambda m: json.dumps(m.group())[1:-1], json_text)


def dumps(obj: Any) -> str:
    """One line of JSON in which no raw control character can reach a terminal."""
    return escape_c1(json.dumps(obj, ensure_ascii=False))


def highlight(text: str, spans: list[tuple[int, int]], paint: Paint) -> str:
    """Inert text with the given character spans painted as hits."""
    out: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        start = max(start, pos)
        if end <= start:
            continue
        out.append(inert(text[pos:start]))
        out.append(paint.hit(inert(text[start:end])))
        pos = end
    out.append(inert(text[pos:]))
    return "".join(out)
