"""Required-literal extraction: the prefilter that keeps the matcher fast.

For a regex we find a small set of literal strings such that every match of the regex
contains at least one of them. A line containing none of them cannot match, so the
expensive regex runs only on the few lines that pass this cheap test.
"""

from __future__ import annotations

import re
from typing import Any

try:  # Python >= 3.11 keeps the parser here; sre_parse is a deprecated alias.
    from re import _constants as sre_c  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_constants as sre_c  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

MIN_LITERAL = 3

Factors = frozenset[str]


def required_literals(pattern: str, ignore_case: bool = False) -> tuple[Factors, bool] | None:
    """Return (literals, caseless) such that any match contains one literal, or None.

    None means no such set of literals of at least MIN_LITERAL characters was found.
    """
    parsed = sre_parse.parse(pattern, re.ASCII | (re.IGNORECASE if ignore_case else 0))
    caseless = bool(parsed.state.flags & re.IGNORECASE) or _has_scoped_ignorecase(parsed.data)
    found = _sequence(list(parsed.data))
    if not found or min(len(s) for s in found) < MIN_LITERAL:
        return None
    if caseless:
        found = frozenset(s.lower() for s in found)
    return found, caseless


def _has_scoped_ignorecase(items: list[Any]) -> bool:
    for op, av in items:
        if op is sre_c.SUBPATTERN:
            if av[1] & re.IGNORECASE or _has_scoped_ignorecase(list(av[3])):
                return True
        elif op is sre_c.BRANCH:
            if any(_has_scoped_ignorecase(list(b)) for b in av[1]):
                return True
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT):
            if _has_scoped_ignorecase(list(av[2])):
                return True
        elif op in (sre_c.ASSERT, sre_c.ASSERT_NOT, sre_c.ATOMIC_GROUP):
            inner = av[1] if op is not sre_c.ATOMIC_GROUP else av
            if _has_scoped_ignorecase(list(inner)):
                return True
    return False


def _score(factors: Factors) -> tuple[int, int]:
    # Prefer the set whose weakest literal is longest, then the smaller set.
    return (min(len(s) for s in factors), -len(factors))


def _sequence(items: list[Any]) -> Factors | None:
    """Best factor set for a concatenation of parsed items."""
    candidates: list[Factors] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            candidates.append(frozenset({"".join(run)}))
            run.clear()

    for op, av in items:
        if op is sre_c.LITERAL:
            run.append(chr(av))
            continue
        # A group that is itself one literal string continues the current run.
        if op is sre_c.SUBPATTERN:
            inner = list(av[3])
            if inner and all(o is sre_c.LITERAL for o, _ in inner):
                run.extend(chr(a) for _, a in inner)
                continue
        flush()
        sub = _item(op, av)
        if sub:
            candidates.append(sub)
    flush()
    candidates = [c for c in candidates if c and min(len(s) for s in c) > 0]
    if not candidates:
        return None
    return max(candidates, key=_score)


def _item(op: Any, av: Any) -> Factors | None:
    if op is sre_c.SUBPATTERN:
        return _sequence(list(av[3]))
    if op is sre_c.ATOMIC_GROUP:
        return _sequence(list(av))
    if op is sre_c.BRANCH:
        branches = [_sequence(list(b)) for b in av[1]]
        if any(b is None for b in branches):
            return None
        return frozenset().union(*branches)  # type: ignore[arg-type]
    if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT) and av[0] >= 1:
        return _sequence(list(av[2]))
    if op is sre_c.IN:
        # A one-character class such as [│] or (?:x) behaves as a literal of length 1.
        lits = [a for o, a in av if o is sre_c.LITERAL]
        if len(lits) == len(av) and len(lits) == 1:
            return frozenset({chr(lits[0])})
    return None
