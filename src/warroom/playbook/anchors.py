"""Where a pattern is tied to a line's start or the text's end, read from its source.

A line is matched as written and as the lines of the plain text it carries (`readable.py`):
a JSON object's strings each become a line, so a `^` may meet one in the middle of the raw
line, and a `$` at a string's end. Unescaped `^` and `$` outside character classes, and
`\\A \\z \\Z \\G`, are what the matcher and the prefilter must treat with care.
"""

from __future__ import annotations

import re

# `$` and `\A \z \Z \G` (in a class too: rare, and refusing is safe): where they match
# depends on a line's `\r` and on the text around it.
_TEXT_ANCHOR = re.compile(r"(?<!\\)(?:\\\\)*(?:\$|\\[AzZG])")
# `^` outside a character class (a class is skipped whole, escapes and all).
_LINE_START = re.compile(r"\[(?:\\.|[^\]\\])*\]|(?<!\\)((?:\\\\)*)(\^)")


def at_text_end(pattern: str) -> bool:
    """Whether `pattern` anchors at the text's end (or uses `\\A \\z \\Z \\G`)."""
    return _TEXT_ANCHOR.search(pattern) is not None


def anchored(pattern: str) -> bool:
    """Whether `pattern` anchors at a line's start or at the text's end."""
    return at_text_end(pattern) or any(found.group(2) for found in _LINE_START.finditer(pattern))


def without_line_starts(pattern: str) -> str:
    """`pattern` with its `^` anchors dropped: it matches wherever `pattern` matches, and
    also where a line of a JSON object's strings starts mid-line."""
    return _LINE_START.sub(lambda found: found.group(1) if found.group(2) else found.group(0), pattern)
