"""The prefilter in pure Python: always available, and the reference for correctness.

A pattern is a candidate for a line when each set of its required literals has one in
the line (`_Entry.admits`). Testing all thousand-odd patterns that way costs a substring
search each; instead the line's two-character pieces pick the literals worth looking
for, since a literal can only be in the line if the two characters it starts with are.
Only the patterns one of whose first set's literals is there are then tested in full.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warroom.playbook.literals import MIN_LITERAL

if TYPE_CHECKING:
    from warroom.playbook.matcher import _Entry

_KEY = 2  # characters a literal is filed under: no literal is shorter (MIN_LITERAL)
assert _KEY <= MIN_LITERAL


class PythonPrefilter:
    """Substring tests in pure Python, selected by the pairs of characters in a line."""

    name = "python"

    def __init__(self, entries: list[_Entry]) -> None:
        self._entries = entries
        # By case: a literal's first two characters -> the literal -> the patterns whose
        # first set holds it.
        self._filed: dict[bool, dict[str, dict[str, list[int]]]] = {True: {}, False: {}}
        for i, entry in enumerate(entries):
            for literal in entry.conjuncts[0]:
                filed = self._filed[entry.caseless].setdefault(literal[:_KEY], {})
                filed.setdefault(literal, []).append(i)

    def line(self, text: str) -> set[int]:
        lower = text.lower()
        found: set[int] = set()
        entries = self._entries
        for caseless, hay in ((True, lower), (False, text)):
            filed = self._filed[caseless]
            for pair in filed.keys() & set(map(str.__add__, hay, hay[1:])):
                for literal, patterns in filed[pair].items():
                    if literal in hay:
                        found.update(i for i in patterns if i not in found and entries[i].admits(text, lower))
        return found

    def block(self, data: bytes, tune: bool = True) -> dict[int, set[int]]:
        out: dict[int, set[int]] = {}
        start = 0
        for raw in data.split(b"\n"):
            hits = self.line(raw.decode("utf-8", "replace"))
            if hits:
                out[start] = hits
            start += len(raw) + 1
        return out

    def many(self, texts: list[str]) -> list[set[int]]:
        return [self.line(text) for text in texts]
