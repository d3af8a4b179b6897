"""Tiny text sparklines for labels (one cell per value)."""

from __future__ import annotations

from collections.abc import Sequence

BARS = " ▁▂▃▄▅▆▇█"


def spark(values: Sequence[int]) -> str:
    """`[0, 1, 4, 9]` -> ` ▁▄█`; all zeros stay blank so a quiet resource looks quiet."""
    top = max(values, default=0)
    if top <= 0:
        return " " * len(values)
    return "".join(BARS[0 if v <= 0 else max(1, round(v / top * 8))] for v in values)
