"""Which log groups get the Live Tail sessions when there are more groups than session slots.

Groups the caller marks as priority (with findings, the selected resource's) come first,
then the busiest by one measure of activity: events taken in over a recent window (the
AWS/Logs IncomingLogEvents metric) or, where that metric cannot be read, the time of
the group's last event. A group without a session takes one from a group with a session
only when it clearly beats it (`margin` times as many events, or an event `recency_ms`
newer): a group near the cut does not move back and forth at every re-evaluation.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

EVENTS = "events"    # Activity.values: events taken in over the window
RECENCY = "recency"  # Activity.values: the last event's time, ms
MIN_LEAD = 1.0       # events: below this, no lead is clear (every count is noise)


@dataclass(frozen=True)
class Activity:
    """How busy each group is, by one measure (`kind`); a group not named counts as idle."""

    kind: str = EVENTS
    values: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Hysteresis:
    """How clearly a group without a session must beat one with a session to take its place."""

    margin: float = 2.0        # times the events of the group it replaces
    recency_ms: float = 60_000  # newer last event than the group it replaces


def choose(names: Sequence[str], current: Collection[str], capacity: int, priority: Collection[str],
           activity: Activity, hysteresis: Hysteresis | None = None) -> set[str]:
    """The groups (of `names`) that should hold the `capacity` session places, given the
    ones that hold them now (`current`)."""
    rule = hysteresis or Hysteresis()
    wanted = set(priority)
    values = activity.values

    def rank(name: str) -> tuple[bool, float, str]:
        # The name last, reversed in effect by the sorts below: ties go to the first in order.
        return (name in wanted, values.get(name, 0.0), name)

    def beats(newcomer: str, holder: str) -> bool:
        if (newcomer in wanted) != (holder in wanted):
            return newcomer in wanted
        new, old = values.get(newcomer, 0.0), values.get(holder, 0.0)
        if activity.kind == RECENCY:
            return new > old + rule.recency_ms
        return new >= MIN_LEAD and new > old * rule.margin + MIN_LEAD

    present = set(names)
    holders = sorted((n for n in current if n in present), key=rank)  # weakest first
    capacity = max(0, capacity)
    while len(holders) > capacity:
        holders.pop(0)
    others = sorted((n for n in names if n not in set(holders)), key=lambda n: (
        not rank(n)[0], -rank(n)[1], n))  # strongest first
    while len(holders) < capacity and others:
        holders.append(others.pop(0))
    holders.sort(key=rank)
    # Each swap replaces the weakest holder by a clearly stronger group: at most one per group.
    for _ in range(len(names)):
        if not holders or not others or not beats(others[0], holders[0]):
            break
        holders[0], others[0] = others[0], holders[0]
        holders.sort(key=rank)
        others.sort(key=lambda n: (not rank(n)[0], -rank(n)[1], n))
    return set(holders)
