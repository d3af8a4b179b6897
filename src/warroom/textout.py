"""Plain-terminal output helpers: colour only on a TTY, and inert untrusted text."""

from __future__ import annotations

import json
import os
import re
from typing import IO, Any

# C0 controls except tab, DEL and C1 controls: these can start terminal escape sequences.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_C1_DEL = {c: f"\\u{c:04x}" for c in range(0x7F, 0xA0)}


def inert(text: str) -> str:
    """Make untrusted text safe to print: control characters become visible escapes."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


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
    """JSON text with DEL and C1 controls (which json leaves raw) written as \\u escapes."""
    return json_text.translate(_C1_DEL)


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
