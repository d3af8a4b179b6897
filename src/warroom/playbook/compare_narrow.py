"""A regex that every line on which a numeric `compare` can hold matches: what the Hyperscan
prefilter looks for instead of the pattern itself.

A threshold on two numbers of every REPORT line (`used >= memory`) cannot be a regex: a
regex cannot compare two numbers. But it can compare their lengths and leading digits.
`used >= memory` needs `used` to have more digits than `memory`, or as many and a leading
digit at least as large; spelled out for each length and leading digit of `memory`, that is
an alternation Hyperscan runs at full speed, and ordinary REPORT lines (128 MB of 1024 used)
no longer reach Python at all. It is a necessary condition only: the compare itself still
decides on the lines it lets through.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from warroom.playbook.model import Compare

MAX_DIGITS = 5  # lengths spelled out; a longer or zero-led value is let through whatever it is
_AT_LEAST = {">": True, ">=": True, "==": True, "<": False, "<=": False}


def narrowed(pattern: str, compares: Sequence[Compare]) -> str | None:
    """A regex holding on every line where `pattern` matches and one of `compares` holds,
    and on few others; None when no narrower one can be written (an op like `!=`, or a
    capture that is not exactly `(?P<name>\\d+)`)."""
    out: list[str] = []
    for compare in compares:
        at_least = _AT_LEAST.get(compare.op)
        if at_least is None:
            return None
        big, small = (compare.left, compare.right) if at_least else (compare.right, compare.left)
        alternatives = _spelled(pattern, big, small)
        if alternatives is None:
            return None
        if alternatives not in out:
            out.append(alternatives)
    return "|".join(out) if out else None


def _spelled(pattern: str, big: str, small: str) -> str | None:
    """`pattern` with `big >= small` spelled out by length and leading digit of `small`."""
    big_group, small_group = rf"(?P<{big}>\d+)", rf"(?P<{small}>\d+)"
    if big == small or pattern.count(big_group) != 1 or pattern.count(small_group) != 1:
        return None
    if pattern.count(f"<{big}>") != 1 or pattern.count(f"<{small}>") != 1:
        return None  # the name is used elsewhere too (a backreference RE2 would refuse anyway)

    # What comes before the first of the two groups is the same in every alternative: it is
    # written once, so Hyperscan meets one literal there rather than one per alternative
    # (4x faster on REPORT lines). Only when that head and the rest are regexes by
    # themselves: cut inside a group or a class, they would not be.
    first = min(pattern.index(big_group), pattern.index(small_group))
    head, body = pattern[:first], pattern[first:]
    if not (_whole(head) and _whole(body)):
        head, body = "", pattern

    def with_values(small_rx: str, big_rx: str) -> str:
        return "(?:" + body.replace(small_group, small_rx).replace(big_group, big_rx) + ")"

    alternatives = []
    for length in range(1, MAX_DIGITS + 1):
        rest = rf"\d{{{length - 1}}}" if length > 1 else ""
        longer = rf"[1-9]\d{{{length},}}"
        for lead in range(1, 10):
            alternatives.append(with_values(f"{lead}{rest}", f"(?:[{lead}-9]{rest}|{longer}|0\\d*)"))
    # A zero-led or longer `small`: any `big`.
    alternatives.append(with_values(rf"(?:0\d*|\d{{{MAX_DIGITS + 1},}})", r"\d+"))
    return "(?:" + head + "(?:" + "|".join(alternatives) + "))"


def _whole(fragment: str) -> bool:
    """Whether a piece of a pattern is a regex by itself (balanced, no escape or class cut)."""
    try:
        re.compile(fragment)
    except re.error:
        return False
    return True
