"""Required-literal extraction: the prefilter that keeps the matcher fast.

For a regex we find a small set of literal strings such that every match of the regex
contains at least one of them. A line containing none of them cannot match, so the
expensive regex runs only on the few lines that pass this cheap test.
"""

from __future__ import annotations

import functools
import itertools
import math
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
    found = conjuncts(pattern, ignore_case)
    return (found[0][0], found[1]) if found[0] else None


@functools.lru_cache(maxsize=4096)  # the loader and the matcher both ask, at start-up
def conjuncts(pattern: str, ignore_case: bool = False) -> tuple[tuple[Factors, ...], bool]:
    """Every factor set that a match must satisfy (all of them), best first, and caseless.

    A line can match only if, for each returned set, it contains one of the set's literals.
    """
    parsed = sre_parse.parse(pattern, re.ASCII | (re.IGNORECASE if ignore_case else 0))
    caseless = bool(parsed.state.flags & re.IGNORECASE) or _has_scoped_ignorecase(parsed.data)
    found = [f for f in _candidates(list(parsed.data)) if min(len(s) for s in f) >= MIN_LITERAL]
    if caseless:
        found = [frozenset(s.lower() for s in f) for f in found]
    # Keep only the sets no other set implies (a weaker set filters nothing more out).
    kept = {f for f in found if not any(_implies(g, f) and not _implies(f, g) for g in found)}
    return tuple(sorted(kept, key=_rank, reverse=True)), caseless


def _implies(strong: Factors, weak: Factors) -> bool:
    """Text holding one literal of `strong` surely holds one of `weak`."""
    return all(any(w in s for w in weak) for s in strong)


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


def _rank(factors: Factors) -> tuple[tuple[int, int], list[str]]:
    # _score, then the literals themselves: the same order in every process.
    return (_score(factors), sorted(factors))


MAX_ALTERNATIVES = 16


def _small_set(op: Any, av: Any) -> set[str] | None:
    """The strings a tiny item can stand for: a literal, a class of <= 4 literals, or `x?`."""
    if op is sre_c.LITERAL:
        return {chr(av)}
    if op is sre_c.IN and 0 < len(av) <= 4 and all(o is sre_c.LITERAL for o, _ in av):
        return {chr(a) for _, a in av}
    if op is sre_c.SUBPATTERN:  # a group of such items: `(?P<code>2304|2345)`
        return _sequence_set(list(av[3]))
    if op is sre_c.BRANCH:
        out: set[str] = set()
        for branch in av[1]:
            one = _sequence_set(list(branch))
            if one is None or len(out | one) > MAX_ALTERNATIVES:
                return None
            out |= one
        return out
    if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT) and av[0] == 0 and av[1] == 1:
        inner = list(av[2])
        if len(inner) == 1:
            one = _small_set(*inner[0])
            if one is not None:
                return one | {""}
    return None


def _sequence_set(items: list[Any]) -> set[str] | None:
    """The strings a concatenation of tiny items can stand for (at most MAX_ALTERNATIVES)."""
    out = {""}
    for item in items:
        one = _small_set(*item)
        if one is None or len(out) * len(one) > MAX_ALTERNATIVES:
            return None
        out = {a + b for a in out for b in one}
    return out if items else None


def _candidates(items: list[Any]) -> list[Factors]:
    """Every factor set that a concatenation of parsed items requires.

    Adjacent literals form runs; small classes and optional characters multiply a run
    into alternatives (`"?50[02]` -> `"500`, `"502`, `500`, `502`) up to MAX_ALTERNATIVES.
    """
    candidates: list[Factors] = []
    run: set[str] = {""}

    def flush() -> None:
        nonlocal run
        if run != {""}:
            candidates.append(frozenset(run))
        run = {""}

    for op, av in items:
        if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT) and av[0] >= 1:
            # `x{6,10}` requires its first six: the run goes on through them (and past
            # them when the count is exact).
            one = _small_set(*av[2][0]) if len(av[2]) == 1 else None
            if one is not None and len(one) == 1 and "" not in one and av[0] <= 64:
                run = {a + next(iter(one)) * av[0] for a in run}
                if av[0] != av[1]:
                    flush()
                continue
        small = _small_set(op, av)
        if small is not None and len(run) * len(small) <= MAX_ALTERNATIVES:
            run = {a + b for a in run for b in small}
            continue
        flush()
        if small is not None and len(small) <= MAX_ALTERNATIVES:
            run = set(small)
            continue
        candidates.extend(_item(op, av))
    flush()
    return [_minimal(c) for c in candidates if c and min(len(s) for s in c) > 0]


def _minimal(factors: Factors) -> Factors:
    # A literal containing another member adds nothing: the shorter one is present too.
    return frozenset(s for s in factors if not any(o != s and o in s for o in factors))


def _item(op: Any, av: Any) -> list[Factors]:
    """Every factor set one parsed item requires (a group requires all its own)."""
    if op is sre_c.SUBPATTERN:
        return _candidates(list(av[3]))
    if op is sre_c.ATOMIC_GROUP:
        return _candidates(list(av))
    if op is sre_c.BRANCH:
        return _branch([_candidates(list(b)) for b in av[1]])
    if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT) and av[0] >= 1:
        return _candidates(list(av[2]))
    if op is sre_c.IN:
        # A one-character class such as [│] or (?:x) behaves as a literal of length 1.
        lits = [a for o, a in av if o is sre_c.LITERAL]
        if len(lits) == len(av) and len(lits) == 1:
            return [frozenset({chr(lits[0])})]
    return []


def _branch(branches: list[list[Factors]]) -> list[Factors]:
    """Factor sets an alternation requires: a set each branch requires, joined, for every
    way of choosing them (up to MAX_ALTERNATIVES ways), so that `A.*B|B.*A` requires A and
    B, not just A-or-B, and the prefilter can pick the rarest."""
    # A set with a literal shorter than MIN_LITERAL is of no use to the prefilter.
    branches = [[f for f in b if min(len(lit) for lit in f) >= MIN_LITERAL] for b in branches]
    if not all(branches):
        return []
    if math.prod(len(b) for b in branches) > MAX_ALTERNATIVES:
        branches = [[max(b, key=_rank)] for b in branches]
    return list({_minimal(frozenset().union(*choice)) for choice in itertools.product(*branches)})
