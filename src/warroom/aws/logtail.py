"""Following CloudWatch log groups without losing or repeating an event.

Each followed group has a poller: FilterLogEvents (interleaved) from a little below
the newest timestamp it has seen, paginated to the end, every event checked against
a bounded memory of the ids already delivered (`SeenIds`). Re-polling that overlap
catches events that share a millisecond with the last one and events ingested late;
now and then a wider sweep catches later ones. A query that fails is retried with
the same parameters and page token (`Pacer`), so a tail resumes exactly where it was.

StartLiveTail, where the endpoint streams it, only wakes the poller of a group that
has new events: Live Tail samples above 500 events/s and gives no event ids, so it
cannot be the record of what was delivered. moto answers one snapshot and closes the
stream; a session that ends that quickly turns Live Tail off and polling carries on.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from warroom.aws.pacing import (
    FALLBACK_RATE,
    Backoff,
    Pacer,
    RetriesExhausted,
    classify,
    no_retry_options,
)
from warroom.aws.seen import SeenIds
from warroom.aws.session import AwsOptions, AwsSession, error_code, explain
from warroom.errors import UserError
from warroom.incident.records import Record
from warroom.playbook.matcher import Matcher

GLOB_CHARS = "*?["
HEAD_REREAD_SHARE = 0.25  # of a page: what a head poll of a busy group re-reads at most
QUIET_SHARE = 0.4         # of the FilterLogEvents rate: what polls of quiet groups may use
LIVE_TAIL_GROUPS = 10  # per session (service quota)
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
    live_tail: bool | None = None      # None: use it if the endpoint streams it
    live_tail_min_session: float = 5.0  # a session ending sooner means "not really supported"
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
    mode: str = "starting"  # "poll", "live+poll" or "starting"


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
        self.pacer = Pacer(self.options.rates, self.options.backoff)
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
        self._live = "off" if self.options.live_tail is False else "unknown"
        self._live_restart = asyncio.Event()
        self._started = False
        self.on_new_group: Callable[[str], None] | None = None

    # -- public ------------------------------------------------------------------------

    def stats(self) -> TailStats:
        p = self.pacer.stats
        mode = "starting" if not self._started else ("live+poll" if self._live == "on" else "poll")
        return TailStats(
            events=self._events, events_per_s=self._rate.value(), throttled=p.throttled,
            errors=p.errors, reconnects=p.reconnects, groups=len(self.groups),
            remembered_ids=sum(len(g.seen) for g in self.groups.values()), mode=mode)

    async def start(self) -> None:
        """Connect and find the groups; raises UserError (one line) when that cannot work."""
        if self._started:
            return
        now = _now_ms()
        opts = self.options
        self._floor = opts.since_ms if opts.since_ms is not None else now
        self._end_ms = None if opts.follow else now
        self._logs = await self._session.client("logs")
        _fast_filter_answers(self._logs)
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
        for group in list(self.groups.values()):
            self._spawn_poller(group)
        if self.options.follow:
            self._tasks.append(asyncio.create_task(self._rediscover_loop()))
            if self._live != "off":
                self._tasks.append(asyncio.create_task(self._live_loop()))
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

    async def aclose(self) -> None:
        await self._cancel_tasks()
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
            for name in added:
                self._spawn_poller(self.groups[name])
                if self.on_new_group:
                    self.on_new_group(name)
            if added:
                self._live_restart.set()

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
        if self._live == "on":
            return opts.idle_interval * 4
        rate = self.pacer.rates.get("FilterLogEvents", FALLBACK_RATE)
        needed = max(1, len(self.groups)) / (QUIET_SHARE * rate)
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
                delivered += await self._deliver(group, events, query)
            token = answer.get("nextToken")
            if not token:
                return delivered

    async def _deliver(self, group: _Group, events: list[dict[str, Any]], query: int) -> int:
        add = group.seen.add
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
            event_id = event["eventId"]
            if not add(ts, event_id):
                continue
            if high is None or ts > high:
                high = ts
            append(Record("logs", name, event.get("logStreamName", ""), ts, event_id,
                          event.get("message", ""), event.get("ingestionTime")))
        if self.matcher is not None and fresh:
            # One prefilter pass for the whole page instead of one per event.
            found = self.matcher.match_many([r.message for r in fresh], [name] * len(fresh))
            for record, matches in zip(fresh, found, strict=True):
                if matches:
                    record.matches = matches
        group.high_ts = high
        if high is not None:
            ref = min(high, _now_ms())
            horizon = ref - self._keep_ms(group, ref)
            if lowest_page_ts is not None and query in group.active:
                # Pages come in timestamp order: this query's next pages start about here,
                # so a long backfill forgets as it goes.
                group.active[query] = max(group.active[query], lowest_page_ts)
            # Keep what any running query may still return, and what a sweep still owes.
            if group.active:
                horizon = min(horizon, *group.active.values())
            if group.owed_from is not None:
                horizon = min(horizon, group.owed_from)
            group.seen.evict_below(max(horizon, group.floor))
        if fresh:
            if not in_order:  # interleaved answers come sorted; a page that is not gets sorted
                fresh.sort(key=lambda r: r.timestamp)
            self._events += len(fresh)
            self.reads.delivered += len(fresh)
            self._rate.add(len(fresh))
            await self._queue.put(fresh)
        return len(fresh)

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

    # -- Live Tail -------------------------------------------------------------------------

    async def _live_loop(self) -> None:
        """Keep Live Tail sessions open over the groups and wake their pollers on news."""
        while self._live != "off":
            self._live_restart.clear()
            groups = list(self.groups.values())
            if not groups:
                await self._live_restart.wait()
                continue
            chunks = [groups[i:i + LIVE_TAIL_GROUPS] for i in range(0, len(groups), LIVE_TAIL_GROUPS)]
            sessions = [asyncio.create_task(self._live_session(c)) for c in chunks]
            restart = asyncio.create_task(self._live_restart.wait())
            try:
                await asyncio.wait([*sessions, restart], return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in [*sessions, restart]:
                    task.cancel()
                await asyncio.gather(*sessions, restart, return_exceptions=True)
            if self._live != "off" and not self._live_restart.is_set():
                self.pacer.stats.reconnects += 1

    async def _live_session(self, groups: list[_Group]) -> None:
        by_arn = {g.arn: g for g in groups}
        by_arn.update({g.name: g for g in groups})
        params: dict[str, Any] = {"logGroupIdentifiers": [g.arn for g in groups]}
        if self.options.filter_pattern:
            params["logEventFilterPattern"] = self.options.filter_pattern
        began = time.monotonic()
        try:
            answer = await self.pacer.call("StartLiveTail", self._logs.start_live_tail,
                                           attempts=3, **params)
            async for event in answer["responseStream"]:
                update = event.get("sessionUpdate")
                if update is None:
                    continue
                if time.monotonic() - began >= self.options.live_tail_min_session:
                    self._live = "on"
                for result in update.get("sessionResults") or []:
                    group = by_arn.get(result.get("logGroupIdentifier", "").removesuffix(":*"))
                    if group is not None:
                        group.wake.set()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001
            if classify(exc) is None and not isinstance(exc, RetriesExhausted):
                self._live = "off"  # not supported or not allowed here: polling carries on
                return
        if time.monotonic() - began < self.options.live_tail_min_session:
            # One snapshot and closed (moto), or refused: not a live stream.
            self._live = "off"


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


def _now_ms() -> int:
    return int(time.time() * 1000)
