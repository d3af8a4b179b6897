"""Giving the Live Tail session places to the priority and busiest groups, again and again.

With more groups than places (sessions x groups per session), the groups are ranked
(`SessionPlaces`) at the start and every `assign_every`; the groups that move are handed
between their session and the Logs Insights reads (see tailinsights.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from warroom.aws.live import LiveSessions
from warroom.aws.sessionplaces import SessionPlaces
from warroom.aws.tailgroup import TailGroup, now_ms
from warroom.aws.tailoptions import TailOptions

FIRST_RANKING = 10.0  # s: the most the start waits for the metric to rank the groups


class SessionAssignment:
    """LogTail's assignment of session places (a mixin: the state is LogTail's)."""

    options: TailOptions
    groups: dict[str, TailGroup]
    live: LiveSessions | None
    places: SessionPlaces
    _logs: Any
    _where: str | None
    _group_tasks: dict[str, asyncio.Task[None]]
    _assign_wake: asyncio.Event

    if TYPE_CHECKING:
        def _to_insights(self, group: TailGroup) -> None: ...

    def set_priority(self, names: Iterable[str]) -> None:
        """Groups to give Live Tail sessions first (those with findings, the selected
        resource's); applied by a re-evaluation, which this brings forward."""
        self.places.priority = set(names)
        self._assign_wake.set()

    async def reassign(self) -> None:
        """Give the session places to the priority and then the busiest groups, now.

        Only with more groups than places. A group leaving its session is read by Logs
        Insights from the session's last update that covered it; a group joining one is
        read by Insights until past its session's start (`live_started`): nothing is
        lost, and what two readers bring is shown once."""
        live = self.live
        if live is None or live.refused:
            return
        groups = [g for g in self.groups.values() if not g.done]
        capacity = live.capacity
        current = live.assigned()
        if len(groups) <= capacity and all(g.name in current for g in groups):
            return
        # The groups read whole (by a session, a poller, unfiltered Insights): their newest
        # delivered event is their last event, should the metric be out of reach.
        known = {g.name: float(g.high_ts or 0) for g in groups
                 if g.live or g.name in self._group_tasks or self._where is None}
        chosen = await self.places.choose([g.name for g in groups], current, capacity, self._logs,
                                          known, now_ms())
        leaving = [name for name in current if name not in chosen]
        live.release(leaving)
        for name in leaving:
            if (group := self.groups.get(name)) is not None:
                self._to_insights(group)
        live.assign({name: self.groups[name].arn for name in sorted(chosen - current)
                     if name in self.groups})

    async def _by_preference(self, groups: list[TailGroup]) -> list[TailGroup]:
        """The groups with the ones that should hold sessions first, where they do not all fit."""
        live = self.live
        if live is None or live.refused or len(groups) <= live.capacity:
            return groups
        try:
            # Nothing delivered yet: only the metric can rank them (no last-event look-ups);
            # the tail does not wait long for it to start.
            async with asyncio.timeout(FIRST_RANKING):
                chosen = await self.places.choose([g.name for g in groups], (), live.capacity,
                                                  self._logs, {g.name: 0.0 for g in groups}, now_ms())
        except Exception:  # noqa: BLE001 - name order; the next re-evaluation ranks them
            return groups
        return sorted(groups, key=lambda g: g.name not in chosen)

    async def _assign_loop(self) -> None:
        """Re-evaluate the assignment every `assign_every` (sooner when the priority changes);
        one that fails keeps the assignment as it is."""
        while True:
            try:
                async with asyncio.timeout(self.options.assign_every):
                    await self._assign_wake.wait()
            except TimeoutError:
                pass
            self._assign_wake.clear()
            try:
                await self.reassign()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the next re-evaluation tries again
                pass
