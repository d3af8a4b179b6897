"""Following CloudWatch log groups without losing or repeating an event.

Live Tail delivers: every followed group gets a place in a StartLiveTail session
(`live.LiveSessions`), and what a session update carries is matched and handed on at
once. FilterLogEvents, whose quota (5/s per account) every other tool on the account
shares, only reconciles, within `filter_budget` calls a second in all: it backfills
`--since`, the gap around each session start, restart and renewal, and the windows a
sampled update left out (`_Group.gap`, read by one backfill worker, oldest first).

Both paths check every event against a bounded memory of what was delivered
(`SeenIds`), by an identity both can give (group, stream, timestamp, ingestion time,
message; identical events counted), so an event is shown once whichever path brings it.

Where Live Tail is refused (no permission, an endpoint without it) or no session is
left, a group has a poller instead: FilterLogEvents (interleaved) from a little below
the newest timestamp it has seen, paginated to the end, within the same budget.
Re-polling that overlap catches events that share a millisecond with the last one and
events ingested late; now and then a wider sweep catches later ones. A query that fails
is retried with the same parameters and page token (`Pacer`), so a tail resumes exactly
where it was; credentials that expire are waited out the same way (the session's
`CredentialWatch` re-reads them), and the calls resume on a client of the new ones. With `--since`, what is read before every group has caught up is held
and handed on in timestamp order across groups.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import time
import zlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from warroom.aws.pacing import (
    FALLBACK_RATE,
    Backoff,
    Pacer,
    RetriesExhausted,
    no_retry_options,
)
from warroom.aws.insights import MAX_GROUPS, query_events
from warroom.aws.live import LiveSessions
from warroom.aws.seen import Occurrences, SeenIds, event_key
from warroom.aws.session import AwsOptions, AwsSession, error_code, explain
from warroom.errors import UserError
from warroom.incident.records import Record
from warroom.playbook.matcher import Matcher

if TYPE_CHECKING:
    from warroom.aws.credentials import CredentialWatch

GLOB_CHARS = "*?["
HEAD_REREAD_SHARE = 0.25  # of a page: what a head poll of a busy group re-reads at most
QUIET_SHARE = 0.4         # of the FilterLogEvents rate: what polls of quiet groups may use
SAMPLED_SHOWN = 10.0      # s: how long the status says "sampled" after a sampled update
_DONE = object()


@dataclass
class TailOptions:
    """How a LogTail reads; times in seconds unless named _ms."""

    since_ms: int | None = None        # first timestamp to show; None: from now
    follow: bool = True                # False: read up to now once, then end
    filter_pattern: str | None = None  # passed to the server as is
    poll_interval: float = 0.5         # between polls of a group that had new events
    idle_interval: float = 2.0         # at most, for a quiet group
    overlap: float = 1.0               # below the newest timestamp, re-read on every poll
    # When the overlap would fill most of a page (a busy group), a head poll re-reads
    # less of it, down to this; the next sweep then re-reads the part it skipped.
    min_overlap: float = 0.2
    late_window: float = 10.0          # re-read by a sweep every `late_every` seconds
    late_every: float = 10.0
    max_remembered: int = 300_000      # per group: sweeps narrow so ids stay under this
    rediscover_every: float = 30.0     # re-list log groups to find new ones
    live_tail: bool = True             # False: poll only (Live Tail is billed by the minute)
    live_groups: int = 10              # per session (AWS's limit)
    live_sessions: int = 15            # at most (AWS's per-account limit)
    live_renew_after: float = 2 * 3600 + 50 * 60  # before AWS ends a session at 3 h
    live_retry_after: float = 60.0     # after LimitExceededException, try for a session again
    filter_budget: float = 1.0         # FilterLogEvents calls a second, all paths together
    insights_every: float = 5.0        # s between Logs Insights reads of groups without a session
    merge_since: bool = True           # with since_ms: hold events until every group caught up
    page_limit: int = 10_000
    queue_batches: int = 256           # batches waiting for the consumer (back-pressure)
    startup_attempts: int = 4          # transient failures tolerated before giving up at start
    rates: dict[str, float] = field(default_factory=dict)  # per-API rate overrides
    backoff: Backoff = field(default_factory=Backoff)


@dataclass
class TailStats:
    """A snapshot for the status bar."""

    events: int = 0
    events_per_s: float = 0.0
    throttled: int = 0
    errors: int = 0
    reconnects: int = 0
    groups: int = 0
    remembered_ids: int = 0
    mode: str = "starting"  # "live", "live+poll", "poll" or "starting"
    live_sessions: int = 0
    live_groups: int = 0
    live_events: int = 0         # events Live Tail updates carried
    sampled: bool = False        # an update came sampled in the last SAMPLED_SHOWN seconds
    backfilling: int = 0         # groups with a window still to backfill
    insights_groups: int = 0     # groups without a session, read by Logs Insights queries
    filter_calls: int = 0        # FilterLogEvents calls made
    live_refused: str | None = None


@dataclass
class ReadStats:
    """What the tail asked for: calls, and events read against events delivered."""

    head_polls: int = 0
    sweeps: int = 0
    calls: int = 0              # FilterLogEvents calls answered (pages)
    events_read: int = 0        # events in those answers
    sweep_events_read: int = 0
    delivered: int = 0
    call_seconds: float = 0.0   # wall time of the answered calls, pacing waits included
    narrowed_polls: int = 0     # head polls that re-read less than `overlap`


@dataclass
class _Group:
    name: str
    arn: str
    floor: int                                    # never query below this
    seen: SeenIds
    high_ts: int | None = None                    # newest timestamp delivered
    # Running queries -> the lowest timestamp each may still return: ids at or above
    # it must be remembered until the query ends.
    active: dict[int, int] = field(default_factory=dict)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    done: bool = False
    # Timestamps a narrowed head poll did not re-read ([from, to]): owed to the next sweep.
    owed_from: int | None = None
    owed_to: int | None = None
    full_page: bool = False                       # the last head poll got a full page
    live: bool = False                            # a Live Tail session delivers it
    live_to: int | None = None                    # ms: the last session update that covered it
    gap: tuple[int, int] | None = None            # event times to backfill (ms, both inclusive)
    caught_up: bool = False                       # read from its floor to the present once
    insights_to: int | None = None                # ms: read by Logs Insights up to here (no session)


def is_glob(spec: str) -> bool:
    return any(c in spec for c in GLOB_CHARS)


def spec_matches(spec: str, name: str) -> bool:
    """Whether a GROUP argument selects a log group.

    A glob matches the whole name (or, with no '/', the last path component); a name
    starting with '/' is an exact name or prefix; a bare word is a prefix of the name
    or of any of its path components (`bos-dev` selects `/aws/lambda/bos-dev-api`).
    """
    if is_glob(spec):
        if fnmatch.fnmatchcase(name, spec):
            return True
        return "/" not in spec and fnmatch.fnmatchcase(name.rsplit("/", 1)[-1], spec)
    if spec.startswith("/"):
        return name.startswith(spec)
    return name.startswith(spec) or any(part.startswith(spec) for part in name.split("/"))


def listing_params(spec: str) -> dict[str, str]:
    """DescribeLogGroups parameters that narrow the listing server-side for a spec."""
    if is_glob(spec):
        literal = spec[: min(spec.index(c) for c in GLOB_CHARS if c in spec)]
        return {"logGroupNamePrefix": literal} if literal.startswith("/") and literal else {}
    if spec.startswith("/"):
        return {"logGroupNamePrefix": spec}
    return {}


class _Rate:
    """Events per second over the last few seconds."""

    def __init__(self, window: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.clock = clock
        self._marks: deque[tuple[float, int]] = deque()

    def add(self, count: int) -> None:
        self._marks.append((self.clock(), count))

    def value(self) -> float:
        now = self.clock()
        while self._marks and self._marks[0][0] < now - self.window:
            self._marks.popleft()
        return sum(c for _, c in self._marks) / self.window


class LogTail:
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
        self.pacer = Pacer({"FilterLogEvents": opts.filter_budget, **opts.rates}, opts.backoff,
                           session=self._session, rebind=self._rebind)
        self.groups: dict[str, _Group] = {}
        self.unmatched: list[str] = []
        self._logs: Any = None
        self._queue: asyncio.Queue[Any] = asyncio.Queue(self.options.queue_batches)
        self._tasks: list[asyncio.Task[None]] = []
        self._group_tasks: dict[str, asyncio.Task[None]] = {}
        self._rate = _Rate()
        self.reads = ReadStats()
        self._events = 0
        self._floor = 0
        self._end_ms: int | None = None
        self.live: LiveSessions | None = None
        self._insights_task: asyncio.Task[None] | None = None
        self._backfill_wake = asyncio.Event()
        self._held: list[Record] = []      # read before every group caught up (merge_since)
        self._holding = self.options.merge_since and self.options.since_ms is not None
        self._started = False
        self.on_new_group: Callable[[str], None] | None = None
        self.on_notice: Callable[[str], None] | None = None  # said once: Live Tail refused

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
            sampled=bool(live and live.last_sampled_ms > _now_ms() - SAMPLED_SHOWN * 1000),
            backfilling=sum(1 for g in self.groups.values() if g.gap is not None),
            insights_groups=sum(1 for g in self.groups.values() if g.insights_to is not None and not g.live),
            filter_calls=p.by_api.get("FilterLogEvents", 0),
            live_refused=live.refused if live else None)

    def behind(self) -> float:
        """Seconds the Live Tail reading is behind (see `LiveSessions.behind`); 0 without it."""
        return self.live.behind() if self.live is not None else 0.0

    @property
    def credentials(self) -> CredentialWatch:
        """Whether the tail's credentials are known to be expired (`listen` to be told).

        Meanwhile every read waits for valid ones, then goes on from where it was."""
        return self._session.credentials

    async def start(self) -> None:
        """Connect and find the groups; raises UserError (one line) when that cannot work."""
        if self._started:
            return
        now = _now_ms()
        opts = self.options
        self._floor = opts.since_ms if opts.since_ms is not None else now
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
            self._tasks.append(asyncio.create_task(self._backfill_loop()))
        self._follow(list(self.groups.values()))
        if opts.follow:
            self._tasks.append(asyncio.create_task(self._rediscover_loop()))
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
            _fast_filter_answers(logs)
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

    async def _list_groups(self, attempts: int | None) -> dict[str, str]:
        """name -> ARN of every log group some spec selects."""
        found: dict[str, str] = {}
        seen_params: set[tuple[tuple[str, str], ...]] = set()
        for spec in self.specs:
            params = listing_params(spec)
            key = tuple(sorted(params.items()))
            if key in seen_params:
                continue
            seen_params.add(key)
            token: str | None = None
            while True:
                call = dict(params, **({"nextToken": token} if token else {}))
                answer = await self.pacer.call("DescribeLogGroups", self._logs.describe_log_groups,
                                               attempts=attempts, **call)
                for entry in answer.get("logGroups", []):
                    name = entry["logGroupName"]
                    if any(spec_matches(s, name) for s in self.specs):
                        arn = entry.get("logGroupArn") or entry.get("arn", "").removesuffix(":*")
                        found[name] = arn
                token = answer.get("nextToken")
                if not token:
                    break
        return found

    async def _discover(self, attempts: int | None) -> list[str]:
        found = await self._list_groups(attempts)
        added = []
        for name, arn in sorted(found.items()):
            if name not in self.groups:
                self.groups[name] = _Group(name, arn, self._floor, SeenIds(self._floor))
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

    def _follow(self, groups: list[_Group]) -> None:
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
                if self._insights_task is None:
                    self._insights_task = asyncio.create_task(self._insights_loop())
                    self._tasks.append(self._insights_task)

    # -- Live Tail (LiveSink) ----------------------------------------------------------------

    def live_started(self, groups: Sequence[str], started_ms: int) -> None:
        """Stop polling these groups and backfill what their previous reader left: since its
        last update (less `late_window`, for events ingested late), or since the floor."""
        overlap_ms = int(self.options.overlap * 1000)
        late_ms = int(self.options.late_window * 1000)
        for name in groups:
            group = self.groups.get(name)
            if group is None:
                continue
            poller = self._group_tasks.pop(name, None)
            if poller is not None:
                poller.cancel()
            covered = group.live_to if group.live_to is not None else group.high_ts
            lo = group.floor if covered is None else max(group.floor, covered - late_ms)
            group.live = True
            group.live_to = started_ms
            self._owe(group, lo, started_ms + overlap_ms)

    async def live_results(self, results: list[dict[str, Any]], occurrences: Occurrences,
                           sampled: bool, window: tuple[int, int], groups: Sequence[str]) -> None:
        by_group: dict[str, list[dict[str, Any]]] = {}
        for result in results:
            by_group.setdefault(result["logGroupName"], []).append(result)
        now = _now_ms()
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

    # -- Logs Insights, for the groups beyond the sessions --------------------------------------

    async def _insights_loop(self) -> None:
        """Every `insights_every`, one query per 50 groups without a session, from where the
        last one got to (less `late_window`, for events ingested late)."""
        while True:
            began = time.monotonic()
            groups = [g for g in self.groups.values()
                      if g.insights_to is not None and not g.live and not g.done]
            groups.sort(key=lambda g: g.insights_to or 0)
            try:
                for start in range(0, len(groups), MAX_GROUPS):
                    await self._insights_read(groups[start:start + MAX_GROUPS])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - refused or failing: poll those groups
                if self.on_notice is not None:
                    self.on_notice(f"Logs Insights failed ({explain(exc, self._session.options)}): "
                                   "polling the groups without a Live Tail session")
                for group in groups:
                    group.insights_to = None
                    self._spawn_poller(group)
                return
            await asyncio.sleep(max(0.0, self.options.insights_every - (time.monotonic() - began)))

    async def _insights_read(self, groups: list[_Group]) -> None:
        late_ms = int(self.options.late_window * 1000)
        # Never below what a group remembers: anything there could be a repeat.
        lo = min(max(g.seen.floor, (g.insights_to or g.floor) - late_ms, g.floor) for g in groups)
        hi = _now_ms()
        query = id(groups)
        for group in groups:
            group.active[query] = lo
        try:
            events, cut = await query_events(self._logs, self.pacer, [g.name for g in groups], lo, hi)
            if cut:  # the row limit: the next query goes on from the last row read
                hi = events[-1]["timestamp"]
            by_group: dict[str, list[dict[str, Any]]] = {}
            for event in events:
                by_group.setdefault(event["logGroupName"], []).append(event)
            for group in groups:
                floor = group.seen.floor
                mine = [e for e in by_group.get(group.name, []) if e["timestamp"] >= floor]
                group.insights_to = hi
                if mine:
                    await self._deliver(group, mine, query, Occurrences())
                else:
                    self._forget(group)
                await self._caught_up(group)
        finally:
            for group in groups:
                group.active.pop(query, None)

    # -- backfill ----------------------------------------------------------------------------

    def _owe(self, group: _Group, lo: int, hi: int) -> None:
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

    async def _caught_up(self, group: _Group) -> None:
        """The group was read from its floor to the present once: with every group so, what
        was held is handed on in timestamp order, and from then on nothing is held."""
        group.caught_up = True
        if self._holding and all(g.caught_up or g.done for g in self.groups.values()):
            self._holding = False
            held, self._held = self._held, []
            held.sort(key=lambda r: r.timestamp)
            for start in range(0, len(held), self.options.page_limit):
                await self._queue.put(held[start:start + self.options.page_limit])

    async def _emit(self, records: list[Record]) -> None:
        """Hand on a batch, or hold it while the `--since` backfill of some group is unread."""
        if self._holding:
            self._held.extend(records)
        else:
            await self._queue.put(records)

    # -- polling -------------------------------------------------------------------------

    def _spawn_poller(self, group: _Group) -> None:
        if group.name not in self._group_tasks:
            self._group_tasks[group.name] = asyncio.create_task(self._poll_loop(group))

    async def _poll_loop(self, group: _Group) -> None:
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

    async def _sweep_loop(self, group: _Group) -> None:
        """Now and then re-read a wider window below the head, beside the head polls, so
        that a slow sweep does not delay fresh events."""
        while not group.done:
            await asyncio.sleep(self.options.late_every)
            if group.high_ts is not None:
                await self._poll(group, sweep=True)

    def _keep_ms(self, group: _Group, ref: int) -> int:
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

    def _head_overlap_ms(self, group: _Group, ref: int) -> int:
        """How far below the newest timestamp a head poll re-reads.

        The whole `overlap`, unless in a busy group that would re-read more than
        `HEAD_REREAD_SHARE` of a page of events already delivered (judged by the ids
        remembered per second): then less, down to `min_overlap`. Only with a sweeper,
        which re-reads what the head skipped (see `_Group.owed_from`), so an event late
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

    async def _poll(self, group: _Group, sweep: bool = False) -> int:
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
            ref = min(group.high_ts, _now_ms())
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

    async def _query(self, group: _Group, params: dict[str, Any], query: int,
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
                    # The group was deleted: stop; rediscovery follows it again if it returns.
                    self.groups.pop(group.name, None)
                    self._group_tasks.pop(group.name, None)
                    group.done = True
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

    async def _deliver(self, group: _Group, events: list[dict[str, Any]], query: int | None,
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
            append(Record("logs", name, stream, ts, event.get("eventId") or _live_id(key, nth),
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

    def _forget(self, group: _Group) -> None:
        """Drop the identities no read can bring again: below the remembered window, and
        below what a running query, a sweep or a backfill may still return."""
        if group.high_ts is None:
            return
        ref = min(group.high_ts, _now_ms())
        horizon = ref - self._keep_ms(group, ref)
        if group.active:
            horizon = min(horizon, *group.active.values())
        if group.owed_from is not None:
            horizon = min(horizon, group.owed_from)
        if group.gap is not None:
            horizon = min(horizon, group.gap[0])
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


def _parse_filter_answer(response_dict: dict[str, Any], customized_response_dict: dict[str, Any],
                         **_: Any) -> None:
    """FilterLogEvents answers as plain `json.loads`, not botocore's walk over the shape
    (several times the cost per event). botocore merges `customized_response_dict` into
    what it parses, and parses an empty body instead. Errors are left to botocore."""
    if response_dict.get("status_code") != 200:
        return
    body = response_dict.get("body")
    if not isinstance(body, (bytes, bytearray)) or not body:
        return
    try:
        answer = json.loads(body)
    except ValueError:
        return
    if not isinstance(answer, dict) or not isinstance(answer.get("events", []), list):
        return
    # As botocore does: members that are null are left out.
    customized_response_dict.update({k: v for k, v in answer.items() if v is not None})
    response_dict["body"] = b"{}"


def _fast_filter_answers(client: Any) -> None:
    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"before-parse.{service}.FilterLogEvents", _parse_filter_answer)


def _live_id(key: tuple[str, int, int | None, str], nth: int) -> str:
    """An id for an event Live Tail brought (it gives none): its identity, short."""
    stream, ts, ingested, message = key
    digest = zlib.crc32(message.encode(), zlib.crc32(stream.encode()))
    return f"live-{ts}-{ingested}-{digest:08x}-{nth}"


def _now_ms() -> int:
    return int(time.time() * 1000)
