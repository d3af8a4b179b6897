"""Following CloudWatch log groups without losing or repeating an event.

Live Tail delivers: every followed group gets a place in a StartLiveTail session
(`live.LiveSessions`), and what a session update carries is matched and handed on at
once. FilterLogEvents, whose quota (5/s per account) every other tool on the account
shares, only reconciles, within `filter_budget` calls a second in all: it backfills
`--since`, the gap around each session start, restart and renewal, and the windows a
sampled update left out (`TailGroup.gap`, read by one backfill worker, oldest first).

Both paths check every event against a bounded memory of what was delivered
(`SeenIds`), by an identity both can give (group, stream, timestamp, ingestion time,
message; identical events counted), so an event is shown once whichever path brings it.

More groups than session places: the priority and busiest groups get the sessions, again
and again as the traffic moves (tailassign.py); the others are read by Logs Insights,
filtered on the playbooks' literals when there is a matcher (tailinsights.py). Where Live
Tail is refused (no permission, an endpoint without it) or no session is left, a group
has a poller (tailpolls.py) within the same FilterLogEvents budget. A query that fails
is retried with the same parameters and page token (`Pacer`), so a tail resumes exactly
where it was; credentials that expire are waited out the same way (the session's
`CredentialWatch` re-reads them), and the calls resume on a client of the new ones. With
`--since`, what is read before every group has caught up is held and handed on in
timestamp order across groups. The console's entry points: `set_priority`,
`set_filter_pattern` (a widening reads back what the narrower pattern left out) and
`lookup` (a request id across the groups, within the same budget).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from warroom.aws.filteranswers import fast_filter_answers
from warroom.aws.groupspec import GLOB_CHARS, is_glob, listing_params, selected_groups, spec_matches
from warroom.aws.insights import symptom_filter
from warroom.aws.live import LiveSessions
from warroom.aws.lookup import lookup_events, quoted_term
from warroom.aws.pacing import Pacer, RetriesExhausted, no_retry_options
from warroom.aws.seen import Occurrences, SeenIds, event_key
from warroom.aws.session import AwsOptions, AwsSession, explain
from warroom.aws.sessionplaces import ASSIGN_RATES, SessionPlaces
from warroom.aws.tailassign import SessionAssignment
from warroom.aws.tailgroup import Rate, TailGroup, live_id, now_ms
from warroom.aws.tailinsights import InsightsReads
from warroom.aws.tailoptions import ReadStats, TailOptions, TailStats
from warroom.aws.tailpolls import Polling
from warroom.errors import UserError
from warroom.incident.records import Record
from warroom.playbook.matcher import Matcher

if TYPE_CHECKING:
    from warroom.aws.credentials import CredentialWatch

__all__ = ["GLOB_CHARS", "LogTail", "ReadStats", "TailOptions", "TailStats", "is_glob",
           "listing_params", "spec_matches"]

SAMPLED_SHOWN = 10.0      # s: how long the status says "sampled" after a sampled update
_DONE = object()


class History(list[Record]):
    """A batch of held records (the `--since` backfill) handed on at once, in time order:
    older than live lines handed on before it."""


class LogTail(SessionAssignment, InsightsReads, Polling):
    """Follows log groups given by name, prefix or glob; `async for batch in tail.batches()`."""

    def __init__(self, aws: AwsSession | AwsOptions, specs: Sequence[str],
                 matcher: Matcher | None = None, options: TailOptions | None = None) -> None:
        base = aws.options if isinstance(aws, AwsSession) else aws
        self.options = options or TailOptions()
        self.specs = list(specs)
        self.matcher = matcher
        # Our own clients, with botocore's retries off: the pacer retries, counts and paces.
        self._session = AwsSession(no_retry_options(base))
        opts = self.options
        self.pacer = Pacer({"FilterLogEvents": opts.filter_budget, **ASSIGN_RATES, **opts.rates},
                           opts.backoff, session=self._session, rebind=self._rebind)
        self.groups: dict[str, TailGroup] = {}
        self.unmatched: list[str] = []
        self._logs: Any = None
        self._queue: asyncio.Queue[Any] = asyncio.Queue(self.options.queue_batches)
        self._tasks: list[asyncio.Task[None]] = []
        self._group_tasks: dict[str, asyncio.Task[None]] = {}
        self._rate = Rate()
        self.reads = ReadStats()
        self._events = 0
        self._floor = 0
        self._end_ms: int | None = None
        self.live: LiveSessions | None = None
        self._insights_task: asyncio.Task[None] | None = None
        self._backfill_wake = asyncio.Event()
        self._held: list[Record] = []      # read before every group caught up (merge_since)
        self._holding = self.options.merge_since and self.options.since_ms is not None
        # With hold_live off, newer events are not held.
        self._live_from = now_ms() - int(self.options.live_reach * 1000)
        self._started = False
        self.on_new_group: Callable[[str], None] | None = None
        self.on_notice: Callable[[str], None] | None = None  # said once: Live Tail refused
        # Insights reads of groups without a session keep only candidate symptom lines.
        self._where = symptom_filter(matcher) if matcher is not None else None
        self.places = SessionPlaces(self._session, self.pacer, self.options)
        self._assign_wake = asyncio.Event()
        # While a filter pattern is in force: since when (ms); a widening reads back to there.
        self._narrowed_at: int | None = None

    # -- public ------------------------------------------------------------------------

    def stats(self) -> TailStats:
        p = self.pacer.stats
        live = self.live.stats if self.live is not None else None
        polled = any(not g.live and not g.done for g in self.groups.values())
        mode = "starting"
        if self._started:
            mode = ("live+poll" if polled else "live") if live and live.sessions else "poll"
        return TailStats(
            events=self._events, events_per_s=self._rate.value(), throttled=p.throttled,
            errors=p.errors, reconnects=p.reconnects, groups=len(self.groups),
            remembered_ids=sum(len(g.seen) for g in self.groups.values()), mode=mode,
            live_sessions=live.sessions if live else 0, live_groups=live.groups if live else 0,
            live_events=live.live_events if live else 0,
            sampled=bool(live and live.last_sampled_ms > now_ms() - SAMPLED_SHOWN * 1000),
            backfilling=sum(1 for g in self.groups.values() if g.gap is not None),
            insights_groups=sum(1 for g in self.groups.values() if g.insights_to is not None and not g.live),
            filter_calls=p.by_api.get("FilterLogEvents", 0),
            live_refused=live.refused if live else None,
            insights_filtered=self._where is not None,
            assigned_by=self.places.by)

    def behind(self) -> float:
        """Seconds the Live Tail reading is behind (see `LiveSessions.behind`); 0 without it."""
        return self.live.behind() if self.live is not None else 0.0

    def set_filter_pattern(self, pattern: str | None) -> None:
        """From now on read only the events matching `pattern` (None: every event): the
        sessions restart with it as their `logEventFilterPattern`, polls and backfills send
        it as `filterPattern`. Any change from a pattern may widen it: the window since a
        pattern was first in force (at most `widen_backfill`) is read again with the new
        one, and what was shown already is not shown again."""
        pattern = pattern or None
        old = self.options.filter_pattern or None
        if pattern == old:
            return
        now = now_ms()
        since = self._narrowed_at
        self.options.filter_pattern = pattern
        if pattern is None:
            self._narrowed_at = None
        elif old is None:
            self._narrowed_at = now
        if self.live is not None:
            self.live.set_filter_pattern(pattern)
        if old is None or since is None or not self._started:
            return
        lo = max(since, now - int(self.options.widen_backfill * 1000))
        hi = now + int(self.options.overlap * 1000)
        for group in self.groups.values():
            # Insights reads do not take the pattern: those groups were never narrowed.
            if not group.done and (group.live or group.name in self._group_tasks
                                   or group.insights_to is None):
                self._owe(group, lo, hi)

    async def lookup(self, term: str, start_ms: int, end_ms: int,
                     groups: Sequence[str] | None = None) -> list[Record]:
        """Every event holding `term` (a request id) in [start_ms, end_ms], in the followed
        groups or `groups`, oldest first: FilterLogEvents with the term as a quoted pattern,
        within the tail's FilterLogEvents budget. ValueError for a term a pattern cannot hold."""
        quoted_term(term)
        await self.start()
        logs = await self._client()
        names = list(groups) if groups is not None else sorted(self.groups)
        events = await lookup_events(logs, self.pacer, names, term, start_ms, end_ms)
        records = [Record("logs", e["logGroupName"], e.get("logStreamName", ""), int(e["timestamp"]),
                          e.get("eventId") or "", e.get("message", ""), e.get("ingestionTime"))
                   for e in events]
        if self.matcher is not None and records:
            found = self.matcher.match_many([r.message for r in records], [r.group for r in records])
            for record, matches in zip(records, found, strict=True):
                if matches:
                    record.matches = matches
        return records

    @property
    def credentials(self) -> CredentialWatch:
        """Whether the tail's credentials are known to be expired (`listen` to be told).

        Meanwhile every read waits for valid ones, then goes on from where it was."""
        return self._session.credentials

    async def start(self) -> None:
        """Connect and find the groups; raises UserError (one line) when that cannot work."""
        if self._started:
            return
        now = now_ms()
        opts = self.options
        self._floor = opts.since_ms if opts.since_ms is not None else now
        if opts.filter_pattern:
            self._narrowed_at = self._floor
        self._end_ms = None if opts.follow else now
        await self._client()
        try:
            await self._discover(attempts=opts.startup_attempts)
        except RetriesExhausted as exc:
            raise UserError(explain(exc.last, self._session.options)) from exc
        except UserError:
            raise
        except Exception as exc:  # noqa: BLE001 - credentials, access, bad endpoint
            raise UserError(explain(exc, self._session.options)) from exc
        self._started = True

    async def batches(self) -> AsyncIterator[list[Record]]:
        """New events in batches, each in timestamp order, until closed (or read, with no follow)."""
        await self.start()
        opts = self.options
        if opts.follow and opts.live_tail:
            self.live = LiveSessions(
                self._session, self.pacer, self, per_session=opts.live_groups,
                max_sessions=opts.live_sessions, filter_pattern=opts.filter_pattern,
                renew_after=opts.live_renew_after, retry_after=opts.live_retry_after)
        if opts.follow:
            self._tasks.append(asyncio.create_task(self._backfill_loop()))
        self._follow(await self._by_preference(list(self.groups.values())))
        if opts.follow:
            self._tasks.append(asyncio.create_task(self._rediscover_loop()))
            if self.live is not None:
                self._tasks.append(asyncio.create_task(self._assign_loop()))
        else:
            self._tasks.append(asyncio.create_task(self._finish_when_read()))
        try:
            while True:
                item = await self._queue.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            await self._cancel_tasks()

    async def _client(self) -> Any:
        """The logs client of the current credentials (a new one once they were renewed)."""
        logs = await self._session.client("logs")
        if logs is not self._logs:
            fast_filter_answers(logs)
            self._logs = logs
        return logs

    async def _rebind(self, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        return getattr(await self._client(), fn.__name__)

    async def aclose(self) -> None:
        await self._cancel_tasks()
        if self.live is not None:
            await self.live.aclose()
        await self._session.aclose()

    async def __aenter__(self) -> LogTail:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- discovery -----------------------------------------------------------------------

    async def _list_groups(self, attempts: int | None = None) -> dict[str, str]:
        """name -> ARN of every log group the specs select, listed through the pacer."""
        return await selected_groups(self.specs, lambda **call: self.pacer.call(
            "DescribeLogGroups", self._logs.describe_log_groups, attempts=attempts, **call))

    def _unfollow(self, group: TailGroup) -> None:
        """Stop following a group that was deleted; rediscovery follows it again if it returns."""
        self.groups.pop(group.name, None)
        self._group_tasks.pop(group.name, None)
        group.done = True

    async def _discover(self, attempts: int | None) -> list[str]:
        """Follow the groups the specs select that are new; returns their names."""
        found = await self._list_groups(attempts)
        added = []
        for name, arn in sorted(found.items()):
            if name not in self.groups:
                self.groups[name] = TailGroup(name, arn, self._floor, SeenIds(self._floor))
                added.append(name)
        self.unmatched = [s for s in self.specs if not any(spec_matches(s, g) for g in self.groups)]
        return added

    async def _rediscover_loop(self) -> None:
        while True:
            await asyncio.sleep(self.options.rediscover_every)
            try:
                added = await self._discover(attempts=None)
            except Exception as exc:  # noqa: BLE001 - reported to the consumer
                await self._queue.put(UserError(explain(exc, self._session.options)))
                return
            self._follow([self.groups[name] for name in added])
            for name in added:
                if self.on_new_group:
                    self.on_new_group(name)

    def _follow(self, groups: list[TailGroup]) -> None:
        """Live Tail sessions for the groups where one is to be had; beyond the sessions,
        Logs Insights queries; pollers where Live Tail is not used at all."""
        live = self.live if self.live is not None and not self.live.refused else None
        placed = set(live.assign({g.name: g.arn for g in groups})) if live else set()
        for group in groups:
            if group.name in placed:
                continue
            if live is None:
                self._spawn_poller(group)
            elif group.insights_to is None:
                group.insights_to = group.floor
                self._ensure_insights()

    # -- Live Tail (LiveSink) ----------------------------------------------------------------

    def live_started(self, groups: Sequence[str], started_ms: int) -> None:
        """Stop polling these groups and backfill what their previous reader left: since its
        last update (less `late_window`, for events ingested late), or since the floor. A
        group Logs Insights read goes on being read by it until past the session's start."""
        overlap_ms = int(self.options.overlap * 1000)
        late_ms = int(self.options.late_window * 1000)
        for name in groups:
            group = self.groups.get(name)
            if group is None:
                continue
            poller = self._group_tasks.pop(name, None)
            if poller is not None:
                poller.cancel()
            from_insights = group.insights_to is not None and not group.live
            covered = group.live_to if group.live_to is not None else group.high_ts
            lo = group.floor if covered is None else max(group.floor, covered - late_ms)
            group.live = True
            group.live_to = started_ms
            if from_insights and self._insights_task is not None and not self._insights_task.done():
                group.handover_to = started_ms + overlap_ms + late_ms
                continue
            group.insights_to = group.handover_to = None
            self._owe(group, lo, started_ms + overlap_ms)

    async def live_results(self, results: list[dict[str, Any]], occurrences: Occurrences,
                           sampled: bool, window: tuple[int, int], groups: Sequence[str]) -> None:
        by_group: dict[str, list[dict[str, Any]]] = {}
        for result in results:
            by_group.setdefault(result["logGroupName"], []).append(result)
        now = now_ms()
        overlap_ms = int(self.options.overlap * 1000)
        for name in groups:
            group = self.groups.get(name)
            if group is None:
                continue
            group.live_to = now
            if sampled:  # what the sample left out is read back from FilterLogEvents
                self._owe(group, window[0] - overlap_ms, window[1] + overlap_ms)
            events = by_group.get(name)
            if events:
                await self._deliver(group, events, None, occurrences)
            else:
                self._forget(group)  # as time passes, with or without news

    def live_unavailable(self, groups: Sequence[str], reason: str, refused: bool) -> None:
        if refused and self.on_notice is not None:
            self.on_notice(reason)
        for name in groups:
            group = self.groups.get(name)
            if group is not None and not group.done:
                group.live = False
                group.insights_to = None
                self._spawn_poller(group)

    # -- backfill ----------------------------------------------------------------------------

    def _owe(self, group: TailGroup, lo: int, hi: int) -> None:
        """Add [lo, hi] to what the backfill worker reads for the group (one window, merged)."""
        lo = max(lo, group.floor)
        if self._end_ms is not None:
            hi = min(hi, self._end_ms)
        if hi < lo:
            return
        group.gap = (lo, hi) if group.gap is None else (min(group.gap[0], lo), max(group.gap[1], hi))
        self._backfill_wake.set()

    async def _backfill_loop(self) -> None:
        """Read the owed windows, the oldest first, one at a time: within the budget, the
        pacer's FilterLogEvents bucket decides when."""
        opts = self.options
        while True:
            owing = [g for g in self.groups.values() if g.gap is not None and not g.done]
            if not owing:
                self._backfill_wake.clear()
                await self._backfill_wake.wait()
                continue
            group = min(owing, key=lambda g: g.gap[0] if g.gap else 0)
            assert group.gap is not None
            lo, hi = group.gap
            group.gap = None
            # Never below what is remembered: anything there could be a repeat.
            lo = max(lo, group.seen.floor)
            if lo > hi:
                await self._caught_up(group)
                continue
            params: dict[str, Any] = {"logGroupName": group.name, "interleaved": True,
                                      "startTime": lo, "endTime": hi, "limit": opts.page_limit}
            if opts.filter_pattern:
                params["filterPattern"] = opts.filter_pattern
            query = id(params)
            group.active[query] = lo
            try:
                await self._query(group, params, query)
            except asyncio.CancelledError:
                self._owe(group, lo, hi)
                raise
            except Exception as exc:  # noqa: BLE001 - reported to the consumer
                await self._queue.put(UserError(f"{group.name}: {explain(exc, self._session.options)}"))
                return
            finally:
                group.active.pop(query, None)
            # Whatever was owed when this query began (from the floor, at first) is read.
            await self._caught_up(group)

    # -- merging by time ---------------------------------------------------------------------

    async def _caught_up(self, group: TailGroup) -> None:
        """The group was read from its floor to the present once: with every group so, what
        was held is handed on in timestamp order, and from then on nothing is held."""
        group.caught_up = True
        if self._holding and all(g.caught_up or g.done for g in self.groups.values()):
            self._holding = False
            await self._hand_on_held()

    async def _hand_on_held(self) -> None:
        held, self._held = self._held, []
        held.sort(key=lambda r: r.timestamp)
        # One block, marked: a consumer that shows live lines meanwhile puts it before them.
        await self._queue.put(History(held))

    async def _emit(self, records: list[Record]) -> None:
        """Hand on a batch, or hold it while the `--since` backfill of some group is unread."""
        if not self._holding:
            await self._queue.put(records)
        elif self.options.hold_live:
            self._held.extend(records)
        else:
            live_from = self._live_from
            self._held.extend(r for r in records if r.timestamp < live_from)
            live = [r for r in records if r.timestamp >= live_from]
            if live:
                await self._queue.put(live)
        if len(self._held) > self.options.hold_limit:
            # A busy account's backfill is not all kept in memory: what is held goes on now, in order.
            await self._hand_on_held()

    async def _deliver(self, group: TailGroup, events: list[dict[str, Any]], query: int | None,
                       occurrences: Occurrences) -> int:
        """Hand on the events not delivered yet (FilterLogEvents events or Live Tail results)."""
        add = group.seen.add
        occurrence = occurrences.next
        name = group.name
        fresh: list[Record] = []
        append = fresh.append
        high = group.high_ts
        lowest_page_ts: int | None = None
        in_order = True
        last = None
        for event in events:
            ts = int(event["timestamp"])
            if last is not None and ts < last:
                in_order = False
            last = ts
            if lowest_page_ts is None or ts < lowest_page_ts:
                lowest_page_ts = ts
            stream = event.get("logStreamName", "")
            message = event.get("message", "")
            ingested = event.get("ingestionTime")
            key = event_key(stream, ts, ingested, message)
            nth = occurrence(key)
            if not add(ts, key, nth):
                continue
            if high is None or ts > high:
                high = ts
            append(Record("logs", name, stream, ts, event.get("eventId") or live_id(key, nth),
                          message, ingested))
        if self.matcher is not None and fresh:
            # One prefilter pass for the whole page instead of one per event.
            found = self.matcher.match_many([r.message for r in fresh], [name] * len(fresh))
            for record, matches in zip(fresh, found, strict=True):
                if matches:
                    record.matches = matches
        group.high_ts = high
        if lowest_page_ts is not None and query in group.active:
            # Pages come in timestamp order: this query's next pages start about here,
            # so a long backfill forgets as it goes.
            group.active[query] = max(group.active[query], lowest_page_ts)
        self._forget(group)
        if fresh:
            if not in_order:  # interleaved answers come sorted; a page that is not gets sorted
                fresh.sort(key=lambda r: r.timestamp)
            self._events += len(fresh)
            self.reads.delivered += len(fresh)
            self._rate.add(len(fresh))
            await self._emit(fresh)
        return len(fresh)

    def _forget(self, group: TailGroup) -> None:
        """Drop the identities no read can bring again: below the remembered window, and
        below what a running query, a sweep or a backfill may still return."""
        if group.high_ts is None:
            return
        ref = min(group.high_ts, now_ms())
        horizon = ref - self._keep_ms(group, ref)
        if group.active:
            horizon = min(horizon, *group.active.values())
        if group.owed_from is not None:
            horizon = min(horizon, group.owed_from)
        if group.gap is not None:
            horizon = min(horizon, group.gap[0])
        if self._narrowed_at is not None:
            # What a widened pattern reads again must be known, so as not to show it twice.
            widen_from = now_ms() - int(self.options.widen_backfill * 1000)
            horizon = min(horizon, max(self._narrowed_at, widen_from))
        group.seen.evict_below(max(horizon, group.floor))

    async def _cancel_tasks(self) -> None:
        tasks = [*self._tasks, *self._group_tasks.values()]
        self._tasks.clear()
        self._group_tasks.clear()
        # Cancel again any task that swallowed the request (a library may), so closing
        # never waits on a task that keeps running.
        while pending := [t for t in tasks if not t.done()]:
            for task in pending:
                task.cancel()
            await asyncio.wait(pending, timeout=1.0)
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _finish_when_read(self) -> None:
        tasks = list(self._group_tasks.values())
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._queue.put(_DONE)


