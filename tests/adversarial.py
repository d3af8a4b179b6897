"""Hostile lines built from every built-in pattern's examples, for tests and bench/scan.py.

Each example is turned into lines of about SIZE characters by blowing up its variable
parts: a run of spaces, digits or word characters made huge (with the example's end
kept, or broken so the pattern almost matches: the shape that makes a backtracking
engine quadratic), or its first half repeated. `small=True` builds the same shapes at a
size any engine handles quickly, so results can be compared across sizes and engines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from warroom.playbook.model import Playbook

SIZE = 256 << 10
SMALL = 2048  # above every bounded repeat of the built-in patterns (at most {1,600})

_RUNS = {"spaces": re.compile(r"[ \t]+"), "digits": re.compile(r"\d+"),
         "word": re.compile(r"[A-Za-z_]\w*")}
_FILL = {"spaces": " ", "digits": "7", "word": "x"}


@dataclass(frozen=True)
class Hostile:
    """One adversarial line and where it came from (for failure messages)."""

    family: str
    source: str  # playbook id and the example it was built from
    line: str


def shapes(example: str, size: int) -> Iterator[tuple[str, str]]:
    """(family, line) for one example: its variable parts blown up to about `size` chars."""
    for kind, rx in _RUNS.items():
        runs = list(rx.finditer(example))
        if not runs:
            continue
        longest = max(runs, key=lambda r: len(r.group()))
        for run in sorted({runs[0], longest}, key=lambda r: r.start()):
            fill = _FILL[kind] * size
            grown = example[:run.end()] + fill + example[run.end():]
            yield f"{kind}-run", grown
            # Near miss: the same, with the example's last character changed.
            yield f"{kind}-run-broken", grown[:-1] + ("x" if grown[-1] != "x" else "y")
    half = example[: max(1, len(example) // 2)]
    repeated = half * (size // len(half) + 1)
    yield "prefix-repeated", repeated + example
    yield "prefix-repeated-broken", repeated


def hostile_lines(catalog: Iterable[Playbook], small: bool = False) -> Iterator[Hostile]:
    """Every shape of every example of every text symptom in `catalog` (about 4,000 lines:
    a gigabyte at full size, so they are made one at a time)."""
    size = SMALL if small else SIZE
    for playbook in catalog:
        for n, symptom in enumerate(playbook.text_symptoms):
            for i, example in enumerate(symptom.examples):
                for family, line in shapes(example, size):
                    yield Hostile(family, f"{playbook.id} symptoms[{n}].examples[{i}]", line)
