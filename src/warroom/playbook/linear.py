"""Linear-time regular expressions for text that comes from logs (RE2).

Log text is untrusted: a backtracking engine can be made to take quadratic or exponential
time by one crafted line. RE2 runs in time linear in the text whatever the pattern, and
refuses what it cannot do that way (lookarounds, backreferences). `Regex` offers the
slice of Python's `re` API the code base uses, with spans in characters of the str.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import re2

# Syntax RE2 and Python's `re` (whose parser finds the prefilter's literals) read
# differently: refused rather than matched one way and prefiltered the other.
_AMBIGUOUS = (
    (re.compile(r"(?<!\\)(?:\\\\)*\{,\d*\}"),
     "write {0,N} rather than {,N} (RE2 reads it as literal text)"),
    (re.compile(r"\[:\^?[a-z]+:\]"), "write the class out, e.g. [0-9] for [:digit:] "
                                     "(Python's re reads [:name:] as characters)"),
)


class RegexError(ValueError):
    """A pattern RE2 cannot compile; the message is one line."""


class Found:
    """One match: spans in characters, like `re.Match` (a plain class: made per match)."""

    __slots__ = ("text", "spans", "groupindex")

    def __init__(self, text: str, spans: list[tuple[int, int]], groupindex: dict[str, int]) -> None:
        self.text = text
        self.spans = spans
        self.groupindex = groupindex

    def start(self) -> int:
        return self.spans[0][0]

    def end(self) -> int:
        return self.spans[0][1]

    def span(self) -> tuple[int, int]:
        return self.spans[0]

    def group(self, index: int | str = 0) -> str | None:
        start, end = self.spans[self.groupindex[index] if isinstance(index, str) else index]
        return None if start < 0 else self.text[start:end]

    def groupdict(self) -> dict[str, str | None]:
        """Each group's text by name; `name2`, `name3`... fill `name` where the pattern has
        one (RE2 wants distinct names, so alternatives capturing one value number them)."""
        out: dict[str, str | None] = {}
        for name, i in self.groupindex.items():
            base = name.rstrip("0123456789")
            key = base if base != name and base in self.groupindex else name
            if out.get(key) is None:
                out[key] = self.group(i)
        return out


class Regex:
    """An RE2 pattern. ASCII `\\d \\w \\s \\b` as with `re.ASCII`; `$` is the end of the text."""

    __slots__ = ("pattern", "ignore_case", "groupindex", "_match", "_head")
    _head: Callable[..., list[tuple[int, int]]] | None

    # A short text is searched by the pattern behind a lazy `(?s:.*?)`, anchored at its
    # start: the leftmost-first match, as unanchored, but RE2 then finds it with its
    # bit-state backtracker (linear: each state once) instead of building a forward and a
    # reverse DFA. A pattern meets few lines in a scan's worker, where those DFAs cost
    # several times the searches they serve. Longer texts keep the DFAs: the backtracker's
    # bitmap is bounded, and past it RE2 would run its NFA over the whole prefix.
    HEAD_MAX = 1024

    def __init__(self, pattern: str, ignore_case: bool = False) -> None:
        for ambiguous, problem in _AMBIGUOUS:
            if ambiguous.search(pattern):
                raise RegexError(problem)
        self.pattern = pattern
        self.ignore_case = ignore_case
        self._compile()

    def _options(self) -> re2.Options:
        options = re2.Options()
        options.log_errors = False  # RE2 would print every rejected pattern to stderr
        options.case_sensitive = not self.ignore_case
        return options

    def _compile(self) -> None:
        try:
            compiled = re2.compile(self.pattern, self._options())
        except re2.error as exc:
            detail = exc.args[0] if exc.args else exc
            if isinstance(detail, bytes):
                detail = detail.decode("utf-8", "replace")
            hint = ("; lookarounds and backreferences take no linear time: say it with "
                    "unless/compare" if "perl operator" in str(detail) else "")
            raise RegexError(f"regex does not compile (RE2, linear time): {detail}{hint}") from None
        self.groupindex: dict[str, int] = dict(compiled.groupindex)
        # The wrapper's `search` costs several times the match itself on short lines; the
        # compiled object's Match(anchor, bytes, pos, endpos) -> byte spans is its core.
        self._match = compiled._regexp.Match  # noqa: SLF001

    def _compile_head(self) -> None:
        try:  # group 1 is the pattern's match, and group k + 1 its group k
            compiled = re2.compile(f"(?s:.*?)({self.pattern})", self._options())
        except re2.error:  # past RE2's size limit by the prefix: the DFAs serve every text
            self._head = None
            return
        self._head = compiled._regexp.Match  # noqa: SLF001
        try:  # not `self.groupindex`, which would compile the bare pattern for it
            object.__getattribute__(self, "groupindex")
        except AttributeError:
            self.groupindex = {name: i - 1 for name, i in compiled.groupindex.items()}

    def __getattr__(self, name: str) -> Any:
        # Reached only while a slot is unset: an unpickled Regex compiles on first use, as
        # a cached catalog holds hundreds and a scan of a few lines runs few of them.
        if name in ("groupindex", "_match"):
            self._compile()
            return object.__getattribute__(self, name)
        if name == "_head":
            self._compile_head()
            return object.__getattribute__(self, name)
        raise AttributeError(name)

    def spans(self, data: bytes, pos: int = 0, end: int = -1) -> list[tuple[int, int]]:
        """Byte spans of the first match in UTF-8 `data[pos:end]` (`end` -1: its end), the
        whole match first, then each group's; (-1, -1) where there is none. `data` must be
        valid UTF-8: the lazy prefix steps over characters, not over undecodable bytes."""
        if end < 0:
            end = len(data)
        if end - pos <= self.HEAD_MAX and (head := self._head) is not None:
            return head(_ANCHOR_START, data, pos, end)[1:]
        return self._match(_UNANCHORED, data, pos, end)

    def release(self) -> None:
        """Drop the compiled program and the caches searching grew; the next use compiles again."""
        # A catalog holds hundreds of patterns, checked against their examples when loaded
        # (tens of KB of RE2 state each); most of them a given process never runs.
        for name in ("_match", "groupindex", "_head"):
            try:
                delattr(self, name)
            except AttributeError:
                pass

    def __repr__(self) -> str:
        return f"Regex({self.pattern!r})"

    def __reduce__(self) -> tuple[Callable[[str, bool], Regex], tuple[str, bool]]:
        # The compiled RE2 object cannot be pickled; the copy compiles when first used.
        return _unpickled, (self.pattern, self.ignore_case)

    def search(self, text: str, data: bytes | None = None) -> Found | None:
        """The first match; `data`, when given, is the text's valid UTF-8 (a caller running
        many patterns on one line encodes it once)."""
        valid = True
        if data is None:
            data, valid = utf8(text)
        spans = self.spans(data) if valid else self._match(_UNANCHORED, data, 0, len(data))
        return None if spans[0][0] < 0 else self._found(text, data, spans)

    def fullmatch(self, text: str) -> Found | None:
        """A match of the whole text (for values checked against a parameter's rule)."""
        data = text.encode("utf-8", "surrogatepass")
        spans = self._match(_ANCHOR_BOTH, data, 0, len(data))
        return None if spans[0][0] < 0 else self._found(text, data, spans)

    def finditer(self, text: str, data: bytes | None = None) -> Iterator[Found]:
        """Non-empty, non-overlapping matches left to right, each in time linear in the text
        (`data` as for `search`)."""
        valid = True
        if data is None:
            data, valid = utf8(text)
        pos, end = 0, len(data)
        while pos < end:
            spans = self.spans(data, pos, end) if valid else self._match(_UNANCHORED, data, pos, end)
            start, stop = spans[0]
            if start < 0:
                return
            if stop > start:
                yield self._found(text, data, spans)
                pos = stop
                continue
            pos = stop + 1  # an empty match: step over a whole character
            while pos < end and data[pos] & 0xC0 == 0x80:
                pos += 1

    def _found(self, text: str, data: bytes, spans: list[tuple[int, int]]) -> Found:
        if len(data) != len(text):  # not ASCII: byte offsets -> character offsets
            spans = [(_chars(data, a), _chars(data, b)) if a >= 0 else (a, b) for a, b in spans]
        return Found(text, spans, self.groupindex)


def _unpickled(pattern: str, ignore_case: bool) -> Regex:
    """A Regex checked when it was first made, not compiled until used."""
    regex = Regex.__new__(Regex)
    regex.pattern = pattern
    regex.ignore_case = ignore_case
    return regex


_UNANCHORED = re2._Anchor.UNANCHORED  # noqa: SLF001
_ANCHOR_BOTH = re2._Anchor.ANCHOR_BOTH  # noqa: SLF001
_ANCHOR_START = re2._Anchor.ANCHOR_START  # noqa: SLF001


def utf8(text: str) -> tuple[bytes, bool]:
    """A text's UTF-8 bytes, and whether they are valid UTF-8 (a lone surrogate, from a
    JSON `\\ud800` escape, is not)."""
    try:
        return text.encode("utf-8"), True
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass"), False


def _chars(data: bytes, offset: int) -> int:
    """The character offset of a byte offset in UTF-8 `data`."""
    return len(data[:offset].decode("utf-8", "surrogatepass"))
