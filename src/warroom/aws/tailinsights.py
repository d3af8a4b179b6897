"""Logs Insights reads, for the groups without a Live Tail session.

Every `insights_every`, one StartQuery per 50 groups reads from where the last one got
to (less `late_window`, for events ingested late), filtered on the playbooks' literals
when the tail has a matcher. A group leaving its session is read from the session's last
update; a group joining one is read until past its session's start (`handover_to`), so
the handover costs no FilterLogEvents call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from warroom.aws.insights import MAX_GROUPS, query_events
from warroom.aws.pacing import Pacer
from warroom.aws.seen import Occurrences
from warroom.aws.session import AwsSession, error_code, explain
from warroom.aws.tailgroup import TailGroup, now_ms
from warroom.aws.tailoptions import TailOptions


class InsightsReads:
    """LogTail's Logs Insights reader (a mixin: the state is LogTail's)."""

    options: TailOptions
    pacer: Pacer
    groups: dict[str, TailGroup]
    on_notice: Callable[[str], None] | None
    _session: AwsSession
    _logs: Any
    _where: str | None
    _tasks: list[asyncio.Task[None]]
    _group_tasks: dict[str, asyncio.Task[None]]
    _insights_task: asyncio.Task[None] | None

    if TYPE_CHECKING:
        async def _deliver(self, group: TailGroup, events: list[dict[str, Any]], query: int | None,
                           occurrences: Occurrences) -> int: ...

        async def _caught_up(self, group: TailGroup) -> None: ...

        def _forget(self, group: TailGroup) -> None: ...

        def _owe(self, group: TailGroup, lo: int, hi: int) -> None: ...

        def _spawn_poller(self, group: TailGroup) -> None: ...

        async def _list_groups(self, attempts: int | None = None) -> dict[str, str]: ...

        def _unfollow(self, group: TailGroup) -> None: ...

    def _ensure_insights(self) -> None:
        if self._insights_task is None:
            self._insights_task = asyncio.create_task(self._insights_loop())
            self._tasks.append(self._insights_task)

    def _to_insights(self, group: TailGroup) -> None:
        """Read the group by Logs Insights from where its reader left it (a session's last
        update, a poller's newest event; Insights re-reads `late_window` below that)."""
        poller = self._group_tasks.pop(group.name, None)
        if poller is not None:
            poller.cancel()
        if group.live:
            since = group.live_to if group.live_to is not None else group.floor
            if group.insights_to is not None:  # still in its handover: Insights got less far
                since = min(since, group.insights_to)
        elif group.insights_to is not None:
            since = group.insights_to
        else:
            since = group.high_ts if group.high_ts is not None else group.floor
        group.live = False
        group.handover_to = None
        if self._insights_task is not None and self._insights_task.done():
            self._spawn_poller(group)  # Logs Insights failed for this tail: poll, as the others
            return
        group.insights_to = max(group.floor, since)
        self._ensure_insights()

    async def _insights_loop(self) -> None:
        """Every `insights_every`, one query per 50 groups without a session, from where the
        last one got to (less `late_window`, for events ingested late)."""
        while True:
            began = time.monotonic()
            groups = [g for g in self.groups.values() if g.insights_to is not None and not g.done
                      and (not g.live or g.handover_to is not None)]
            groups.sort(key=lambda g: g.insights_to or 0)
            try:
                for start in range(0, len(groups), MAX_GROUPS):
                    await self._insights_read(groups[start:start + MAX_GROUPS])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - refused or failing: poll those groups
                if error_code(exc) == "ResourceNotFoundException" and await self._drop_deleted(groups):
                    continue  # the groups that are left, read at once
                if self.on_notice is not None:
                    self.on_notice(f"Logs Insights failed ({explain(exc, self._session.options)}): "
                                   "polling the groups without a Live Tail session")
                late_ms = int(self.options.late_window * 1000)
                for group in groups:
                    if group.live and group.handover_to is not None:  # its handover by FilterLogEvents
                        self._owe(group, (group.insights_to or group.floor) - late_ms, group.handover_to)
                    else:
                        self._spawn_poller(group)
                    group.insights_to = group.handover_to = None
                return
            await asyncio.sleep(max(0.0, self.options.insights_every - (time.monotonic() - began)))

    async def _drop_deleted(self, groups: list[TailGroup]) -> bool:
        """A query failed for a group that no longer exists, and with it the whole query:
        stop following the groups deleted meanwhile (rediscovery follows one again if it
        comes back), rather than poll every group Insights reads; whether any was."""
        try:
            listed = await self._list_groups()
        except Exception:  # noqa: BLE001 - cannot tell: given up as for any other failure
            return False
        gone = [group for group in groups if group.name not in listed]
        for group in gone:
            self._unfollow(group)
        if gone and self.on_notice is not None:
            names = ", ".join(group.name for group in gone)
            self.on_notice(f"log group(s) deleted, no longer followed: {names}")
        return bool(gone)

    async def _insights_read(self, groups: list[TailGroup]) -> None:
        late_ms = int(self.options.late_window * 1000)
        # Never below what a group remembers: anything there could be a repeat.
        lo = min(max(g.seen.floor, (g.insights_to or g.floor) - late_ms, g.floor) for g in groups)
        hi = now_ms()
        query = id(groups)
        for group in groups:
            group.active[query] = lo
        try:
            events, cut = await query_events(self._logs, self.pacer, [g.name for g in groups], lo, hi,
                                             self._where)
            if cut:  # the row limit: the next query goes on from the last row read
                hi = events[-1]["timestamp"]
            by_group: dict[str, list[dict[str, Any]]] = {}
            for event in events:
                by_group.setdefault(event["logGroupName"], []).append(event)
            for group in groups:
                floor = group.seen.floor
                mine = [e for e in by_group.get(group.name, []) if e["timestamp"] >= floor]
                if not group.live:
                    group.insights_to = hi
                elif group.handover_to is not None:
                    # In its handover: read until past its session's start, then the session's.
                    group.insights_to = hi if hi < group.handover_to else None
                    if group.insights_to is None:
                        group.handover_to = None
                else:  # a session started meanwhile, without a handover: not Insights' now
                    group.insights_to = None
                if mine:
                    await self._deliver(group, mine, query, Occurrences())
                else:
                    self._forget(group)
                await self._caught_up(group)
        finally:
            for group in groups:
                group.active.pop(query, None)
