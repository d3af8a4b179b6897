"""Polling FilterLogEvents, for the groups Live Tail does not deliver (refused, or not used).

A poller reads from a little below the newest timestamp it has seen, paginated to the end,
within the tail's FilterLogEvents budget. Re-polling that overlap catches events that
share a millisecond with the last one and events ingested late; now and then a wider
sweep catches later ones. `_query` (one query, paginated) serves the backfills too.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from warroom.aws.pacing import FALLBACK_RATE, Pacer
from warroom.aws.seen import Occurrences
from warroom.aws.session import AwsSession, error_code, explain
from warroom.aws.tailgroup import TailGroup, now_ms
from warroom.aws.tailoptions import ReadStats, TailOptions
from warroom.errors import UserError

HEAD_REREAD_SHARE = 0.25  # of a page: what a head poll of a busy group re-reads at most
QUIET_SHARE = 0.4         # of the FilterLogEvents rate: what polls of quiet groups may use


class Polling:
    """LogTail's pollers and paginated FilterLogEvents queries (a mixin: the state is LogTail's)."""

    options: TailOptions
    pacer: Pacer
    groups: dict[str, TailGroup]
    reads: ReadStats
    _session: AwsSession
    _logs: Any
    _end_ms: int | None
    _queue: asyncio.Queue[Any]
    _group_tasks: dict[str, asyncio.Task[None]]

    if TYPE_CHECKING:
        async def _deliver(self, group: TailGroup, events: list[dict[str, Any]], query: int | None,
                           occurrences: Occurrences) -> int: ...

        def _unfollow(self, group: TailGroup) -> None: ...

        async def _caught_up(self, group: TailGroup) -> None: ...

    def _spawn_poller(self, group: TailGroup) -> None:
        if group.name not in self._group_tasks:
            self._group_tasks[group.name] = asyncio.create_task(self._poll_loop(group))

    async def _poll_loop(self, group: TailGroup) -> None:
        opts = self.options
        interval = opts.poll_interval
        sweeper = None
        if opts.follow and opts.late_window > opts.overlap:
            sweeper = asyncio.create_task(self._sweep_loop(group))
        try:
            while True:
                began = time.monotonic()
                new = await self._poll(group)
                await self._caught_up(group)
                if not opts.follow or group.done:
                    group.done = True
                    return
                quiet_max = self._quiet_interval()
                interval = opts.poll_interval if new else min(interval * 2, quiet_max)
                if group.full_page:
                    continue  # more than a page came in since the last poll: go again at once
                # The interval runs from the start of the poll: a slow answer is not added to it.
                wait = interval - (time.monotonic() - began) if new else interval
                if wait > 0:
                    # Not wait_for: on Python 3.11 it can swallow a cancellation that lands as
                    # the wait ends, and the poller would then outlive Ctrl-C.
                    try:
                        async with asyncio.timeout(wait):
                            await group.wake.wait()
                    except TimeoutError:
                        pass
                group.wake.clear()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - reported to the consumer
            group.done = True
            await self._queue.put(UserError(f"{group.name}: {explain(exc, self._session.options)}"))
        finally:
            if sweeper is not None:
                sweeper.cancel()
                await asyncio.gather(sweeper, return_exceptions=True)

    def _quiet_interval(self) -> float:
        """The longest wait between polls of a quiet group: `idle_interval` (four times
        that while Live Tail wakes pollers), but no longer than polling every quiet group
        at that pace within `QUIET_SHARE` of the FilterLogEvents rate needs: with few
        groups followed, the first events after a lull are not kept waiting."""
        opts = self.options
        rate = self.pacer.rates.get("FilterLogEvents", FALLBACK_RATE)
        polled = sum(1 for g in self.groups.values() if not g.live)
        needed = max(1, polled) / (QUIET_SHARE * rate)
        return min(opts.idle_interval, max(opts.poll_interval, needed))

    async def _sweep_loop(self, group: TailGroup) -> None:
        """Now and then re-read a wider window below the head, beside the head polls, so
        that a slow sweep does not delay fresh events."""
        while not group.done:
            await asyncio.sleep(self.options.late_every)
            if group.high_ts is not None:
                await self._poll(group, sweep=True)

    def _keep_ms(self, group: TailGroup, ref: int) -> int:
        """How far below `ref` ids are remembered: the overlap, or a sweep window that fits."""
        opts = self.options
        overlap_ms = int(opts.overlap * 1000)
        late_ms = int(opts.late_window * 1000)
        if late_ms <= overlap_ms:
            return overlap_ms
        span_s = max(1.0, (ref - group.seen.floor) / 1000)
        rate = len(group.seen) / span_s
        if rate * late_ms / 1000 > opts.max_remembered:
            late_ms = int(opts.max_remembered / rate * 1000)
        return max(overlap_ms, late_ms)

    def _head_overlap_ms(self, group: TailGroup, ref: int) -> int:
        """How far below the newest timestamp a head poll re-reads.

        The whole `overlap`, unless in a busy group that would re-read more than
        `HEAD_REREAD_SHARE` of a page of events already delivered (judged by the ids
        remembered per second): then less, down to `min_overlap`. Only with a sweeper,
        which re-reads what the head skipped (see `TailGroup.owed_from`), so an event late
        by up to `overlap` is still delivered, by the next sweep at the latest.
        """
        opts = self.options
        overlap_ms = int(opts.overlap * 1000)
        floor_ms = min(overlap_ms, int(opts.min_overlap * 1000))
        if not opts.follow or opts.late_window <= opts.overlap or floor_ms >= overlap_ms:
            return overlap_ms
        density = group.seen.density(ref)  # events per second of event time
        if density <= 0:
            return overlap_ms
        fits = int(HEAD_REREAD_SHARE * opts.page_limit / density * 1000)
        return max(floor_ms, min(overlap_ms, fits))

    async def _poll(self, group: TailGroup, sweep: bool = False) -> int:
        """One query over the group's window, paginated to the end; returns new events delivered.

        A head poll reads from `overlap` below the newest timestamp, open-ended; a sweep
        reads the wider remembered window up to that newest timestamp, plus whatever head
        polls skipped, in windows bounded by time that each fit about one page.
        """
        opts = self.options
        start = group.floor
        end = self._end_ms
        owed: tuple[int | None, int | None] = (None, None)
        if group.high_ts is not None:
            ref = min(group.high_ts, now_ms())
            if sweep:
                below = self._keep_ms(group, ref)
                owed = (group.owed_from, group.owed_to)
                group.owed_from = group.owed_to = None
                top = ref if owed[1] is None else max(ref, owed[1])
                end = top if end is None else min(end, top)
            else:
                below = self._head_overlap_ms(group, ref)
                overlap_ms = int(opts.overlap * 1000)
                if below < overlap_ms:
                    # Owed to the next sweep: [ref - overlap, ref - below).
                    self.reads.narrowed_polls += 1
                    lo, hi = ref - overlap_ms, ref - below - 1
                    group.owed_from = lo if group.owed_from is None else min(group.owed_from, lo)
                    group.owed_to = hi if group.owed_to is None else max(group.owed_to, hi)
            start = max(start, ref - below)
            if owed[0] is not None:
                start = min(start, max(group.floor, owed[0]))
        # Never query below what is remembered: anything there could be a repeat.
        start = max(start, group.seen.floor)
        params: dict[str, Any] = {"logGroupName": group.name, "interleaved": True,
                                  "startTime": start, "limit": opts.page_limit}
        if opts.filter_pattern:
            params["filterPattern"] = opts.filter_pattern
        query = id(params)
        group.active[query] = start
        if sweep:
            self.reads.sweeps += 1
        else:
            self.reads.head_polls += 1
            group.full_page = False
        try:
            if not sweep or end is None:
                if end is not None:
                    params["endTime"] = end
                return await self._query(group, params, query, sweep)
            # A sweep in windows of about a page each: moto (and any server that pages by
            # re-reading) then never re-reads the whole window for every page.
            delivered = 0
            target = max(1, int(opts.page_limit * 0.9))
            for lo, hi in group.seen.slices(start, end, target):
                group.active[query] = max(group.active[query], lo)
                delivered += await self._query(group, dict(params, startTime=lo, endTime=hi),
                                               query, sweep)
                if group.done:
                    break
            return delivered
        except BaseException:
            if owed[0] is not None:
                # Not swept after all: still owed.
                group.owed_from = owed[0] if group.owed_from is None else min(group.owed_from, owed[0])
                group.owed_to = owed[1] if group.owed_to is None else max(group.owed_to, owed[1] or owed[0])
            raise
        finally:
            group.active.pop(query, None)

    async def _query(self, group: TailGroup, params: dict[str, Any], query: int,
                     sweep: bool = False) -> int:
        delivered = 0
        token: str | None = None
        restarted = False
        occurrences = Occurrences()  # identical events are counted across the query's pages
        while True:
            call = dict(params, **({"nextToken": token} if token else {}))
            began = time.monotonic()
            try:
                answer = await self.pacer.call("FilterLogEvents", self._logs.filter_log_events, **call)
            except Exception as exc:  # noqa: BLE001
                code = error_code(exc)
                if code == "ResourceNotFoundException":
                    self._unfollow(group)  # the group was deleted
                    return delivered
                if code == "InvalidParameterException" and token and not restarted:
                    # An expired page token: query again from where this query had got to
                    # (every id from there on is remembered, so repeats are filtered).
                    params["startTime"] = max(params["startTime"], group.active.get(query, 0))
                    token, restarted = None, True
                    occurrences.clear()
                    continue
                raise
            events = answer.get("events") or []
            if not sweep and len(events) >= params["limit"]:
                group.full_page = True
            reads = self.reads
            reads.calls += 1
            reads.call_seconds += time.monotonic() - began
            reads.events_read += len(events)
            if sweep:
                reads.sweep_events_read += len(events)
            if events:
                delivered += await self._deliver(group, events, query, occurrences)
            token = answer.get("nextToken")
            if not token:
                return delivered
