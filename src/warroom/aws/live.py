"""Live Tail sessions over the followed log groups: the path that delivers events as they arrive.

StartLiveTail pushes, once a second, what was ingested into up to 10 groups per session,
up to 15 sessions per account, without touching the FilterLogEvents quota. Groups are
packed into slots of `per_session`; each slot keeps one session open: it starts it (paced
under StartLiveTail's own quota), hands every update to the sink, and starts it again
after a drop, after the session's end (AWS ends them at 3 hours) and before that end
(`renew_after`). The sink backfills the gap around each restart with FilterLogEvents.

A slot's groups can change (`assign`, `release`: the tail moves sessions to where the
traffic is) and so can the filter pattern: the slot's session then restarts. A restart
refused with LimitExceededException is tried again shortly, a few times (the session it
replaces may still count). Otherwise LimitExceededException (other consoles hold sessions
too) makes the account's limit the number of sessions open now: the slots beyond it hand
their groups back to be polled and try again after `retry_after`. A refusal (no `logs:StartLiveTail` permission, an endpoint
without the API) ends Live Tail for the whole tail, once, with the reason.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from warroom.aws.pacing import Pacer, classify, wait_out_expiry
from warroom.aws.seen import Occurrences
from warroom.aws.session import AwsSession, error_code

LIMIT_CODE = "LimitExceededException"
RESTART_RETRIES = 3  # LimitExceeded answers to a restart retried before lowering the limit
RESTART_PAUSE = 1.0  # s, about: AWS updates (and notices a closed session) once a second
SHORT_SESSION = 5.0  # s: a session that ended sooner counts as a failed start
GROUP_CODES = frozenset({"ResourceNotFoundException", "InvalidParameterException"})


class LiveSink(Protocol):
    """What LiveSessions tells the tail; groups are named."""

    def live_started(self, groups: Sequence[str], started_ms: int) -> None:
        """A session delivers these groups from `started_ms` on (what came before it, since
        the last update of the group's previous session, is the sink's to backfill)."""

    async def live_results(self, results: list[dict[str, Any]], occurrences: Occurrences,
                           sampled: bool, window: tuple[int, int], groups: Sequence[str]) -> None:
        """One session update: results of `groups`; when `sampled`, AWS left out part of what
        arrived in `window` (ms, event time)."""

    def live_unavailable(self, groups: Sequence[str], reason: str, refused: bool) -> None:
        """No session for these groups for now (`refused`: not ever, in this tail)."""


@dataclass
class LiveStats:
    """What the status bar shows about Live Tail."""

    sessions: int = 0          # open now
    groups: int = 0            # delivered by an open session
    starts: int = 0
    restarts: int = 0          # after a drop, an end or a renewal
    limit: int = 0             # sessions this tail may hold (lowered by LimitExceeded)
    updates: int = 0
    sampled_updates: int = 0
    last_sampled_ms: int = 0   # when an update last came sampled
    live_events: int = 0       # results received
    refused: str | None = None
    behind_ms: int = 0         # the last update's newest result: ingested this long before it was read


@dataclass
class _Slot:
    groups: dict[str, str]                     # name -> ARN, at most `per_session`
    task: asyncio.Task[None] | None = None
    open: bool = False
    starting: bool = False                     # a StartLiveTail call of it is in flight
    held: bool = False                         # it had a session open: a start is a restart
    delivered_to: int | None = None            # ms: when the last update (or the start) came
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class LiveSessions:
    """Keeps a Live Tail session open over every slot of groups; see the module docstring."""

    def __init__(self, session: AwsSession, pacer: Pacer, sink: LiveSink, *, per_session: int = 10,
                 max_sessions: int = 15, filter_pattern: str | None = None,
                 renew_after: float = 2 * 3600 + 50 * 60, retry_after: float = 60.0) -> None:
        self._session = session
        self.pacer = pacer
        self.sink = sink
        self.per_session = per_session
        self.filter_pattern = filter_pattern
        self.renew_after = renew_after
        self.retry_after = retry_after
        self.stats = LiveStats(limit=max_sessions)
        self._max_sessions = max_sessions
        self._slots: list[_Slot] = []
        self._client: Any = None
        self._generation = 0  # the session's, when the client was made
        self._rng = random.Random()

    @property
    def refused(self) -> str | None:
        return self.stats.refused

    def assign(self, groups: dict[str, str]) -> list[str]:
        """Give sessions to groups not yet in a slot (name -> ARN); returns the names that got
        one. The rest are the caller's to poll (no slot left under the limit)."""
        if self.refused:
            return []
        placed: list[str] = []
        known = {name for slot in self._slots for name in slot.groups}
        for name, arn in groups.items():
            if name in known:
                continue
            slot = next((s for s in self._slots if len(s.groups) < self.per_session), None)
            if slot is None:
                if len(self._slots) >= self.stats.limit:
                    continue
                slot = _Slot({})
                self._slots.append(slot)
            slot.groups[name] = arn
            slot.changed.set()
            placed.append(name)
        for slot in self._slots:
            if slot.task is None or slot.task.done():
                slot.task = asyncio.create_task(self._run(slot))
        return placed

    @property
    def capacity(self) -> int:
        """Groups the sessions can hold now (the session limit lowers it)."""
        return 0 if self.refused else self.per_session * self.stats.limit

    def assigned(self) -> set[str]:
        """The groups in a slot: delivered by a session, or about to be."""
        return {name for slot in self._slots for name in slot.groups}

    def release(self, names: Sequence[str]) -> None:
        """Take these groups out of their sessions (each session restarts without them; the
        caller reads them otherwise from the last update that covered them)."""
        gone = set(names)
        for slot in self._slots:
            if gone & slot.groups.keys():
                for name in gone & slot.groups.keys():
                    del slot.groups[name]
                slot.changed.set()

    def set_filter_pattern(self, pattern: str | None) -> None:
        """Restart every session with this `logEventFilterPattern` (None: every event)."""
        self.filter_pattern = pattern
        for slot in self._slots:
            slot.changed.set()

    def behind(self) -> float:
        """Seconds the sessions' reading is behind: since the open session least recently
        heard from (AWS updates every second), or the last update's lag behind ingestion."""
        now = _now_ms()
        quiet = max((now - s.delivered_to for s in self._slots if s.open and s.delivered_to), default=0)
        return max(quiet, self.stats.behind_ms) / 1000

    async def aclose(self) -> None:
        tasks = [s.task for s in self._slots if s.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _logs(self) -> Any:
        if self._client is None or self._generation != self._session.generation:  # none, or renewed
            self._generation = self._session.generation
            from aiobotocore.config import AioConfig

            # Each open session holds a connection for its whole life.
            options = self._session.options
            config = options.botocore_config(AioConfig).merge(
                AioConfig(max_pool_connections=self.stats.limit + 2))
            creator = self._session._aio().create_client("logs", config=config, **options.client_kwargs())
            self._client = await self._session._stack.enter_async_context(creator)
        return self._client

    async def _run(self, slot: _Slot) -> None:
        failures = 0
        restarting = 0  # LimitExceeded answers to a restart, in a row
        while True:
            while not slot.groups:  # every group released: wait for new ones
                slot.changed.clear()
                await slot.changed.wait()
            slot.changed.clear()
            names = list(slot.groups)
            slot.starting = True
            generation = self._session.generation
            try:
                answer = await self._start(slot)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - sorted below
                slot.starting = False
                code = error_code(exc)
                if await wait_out_expiry(self._session, exc, generation):
                    continue  # the groups' backfill covers the pause when the session starts
                if code == LIMIT_CODE and slot.held and restarting < RESTART_RETRIES:
                    # The session this one replaces may still count (AWS notices a closed
                    # stream late): try again shortly before taking it for the account's limit.
                    restarting += 1
                    await asyncio.sleep(RESTART_PAUSE * (0.5 + self._rng.random()))
                    continue
                if code == LIMIT_CODE:
                    # The account holds no more than the sessions this tail has (or is getting).
                    restarting = 0
                    self.stats.limit = sum(s.open or s.starting for s in self._slots)
                    self.sink.live_unavailable(names, "Live Tail session limit reached", refused=False)
                    await asyncio.sleep(self.retry_after * (0.5 + self._rng.random()))
                    continue
                if code in GROUP_CODES:  # a group deleted or renamed: its poller finds out
                    self.sink.live_unavailable(names, f"StartLiveTail: {code}", refused=False)
                    return
                if classify(exc) is None:
                    self._refuse(f"StartLiveTail refused ({code or type(exc).__name__}): "
                                 "following by polling FilterLogEvents")
                    return
                failures += 1
                await asyncio.sleep(self.pacer.backoff.delay(failures - 1, self._rng))
                continue
            restarting = 0
            began = time.monotonic()
            try:
                renewed = await self._follow(slot, names, answer)
            finally:
                slot.starting = False
            self.stats.restarts += 1
            # A session that ends at once by itself (an endpoint that answers one snapshot
            # and closes) is started again after a growing pause, not in a loop.
            short = not renewed and time.monotonic() - began < SHORT_SESSION
            failures = failures + 1 if short else 0
            if failures:
                await asyncio.sleep(self.pacer.backoff.delay(failures - 1, self._rng))

    async def _start(self, slot: _Slot) -> Any:
        params: dict[str, Any] = {"logGroupIdentifiers": list(slot.groups.values())}
        if self.filter_pattern:
            params["logEventFilterPattern"] = self.filter_pattern
        logs = await self._logs()
        await self.pacer.bucket("StartLiveTail").acquire()
        stats = self.pacer.stats
        stats.calls += 1
        stats.by_api["StartLiveTail"] = stats.by_api.get("StartLiveTail", 0) + 1
        try:
            answer = await logs.start_live_tail(**params)
        except Exception as exc:
            kind = classify(exc)
            if kind is None or error_code(exc) == LIMIT_CODE:
                stats.answered()
            else:
                stats.count_failure(kind)
            raise
        stats.answered()
        return answer

    async def _follow(self, slot: _Slot, names: list[str], answer: Any) -> bool:
        """Read one session until it ends, drops, or is due for renewal (then True)."""
        stream = answer["responseStream"]
        renew = asyncio.create_task(self._renew_due(slot, time.monotonic()))
        reader = asyncio.create_task(self._read(stream, slot, names))
        try:
            await asyncio.wait([renew, reader], return_when=asyncio.FIRST_COMPLETED)
            return renew.done()
        finally:
            for task in (renew, reader):
                task.cancel()
            await asyncio.gather(renew, reader, return_exceptions=True)
            if slot.open:
                slot.open = False
                self.stats.sessions -= 1
                self.stats.groups -= len(names)
            _close(stream)

    async def _renew_due(self, slot: _Slot, began: float) -> None:
        """Ends when the session should be replaced: its groups changed, or it is near its end."""
        try:
            async with asyncio.timeout(max(0.0, self.renew_after - (time.monotonic() - began))):
                await slot.changed.wait()
        except TimeoutError:
            pass

    async def _read(self, stream: Any, slot: _Slot, names: list[str]) -> None:
        by_arn = {arn: name for name, arn in slot.groups.items() if name in names}
        occurrences = Occurrences()  # per session: identical events are counted within it
        try:
            async for event in stream:
                now = _now_ms()
                if "sessionStart" in event:
                    slot.open = True
                    self.stats.sessions += 1
                    self.stats.groups += len(names)
                    self.stats.starts += 1
                    # A slot that waited out the limit got its session: the limit is higher.
                    self.stats.limit = min(self._max_sessions, max(self.stats.limit, self.stats.sessions))
                    slot.held = True
                    self.sink.live_started(names, now)
                    slot.delivered_to = now
                    continue
                update = event.get("sessionUpdate")
                if update is None:
                    continue
                results = update.get("sessionResults") or []
                sampled = bool((update.get("sessionMetadata") or {}).get("sampled"))
                for result in results:
                    identifier = result.get("logGroupIdentifier", "").removesuffix(":*")
                    result["logGroupName"] = by_arn.get(identifier) or identifier.split(":log-group:")[-1]
                self.pacer.stats.answered()
                stats = self.stats
                stats.updates += 1
                stats.live_events += len(results)
                window = (min([slot.delivered_to or now, *(r["timestamp"] for r in results)]),
                          max([now, *(r["timestamp"] for r in results)]))
                stats.behind_ms = max(0, now - max(r.get("ingestionTime") or now for r in results)) \
                    if results else 0
                if sampled:
                    stats.sampled_updates += 1
                    stats.last_sampled_ms = now
                await self.sink.live_results(results, occurrences, sampled, window, names)
                slot.delivered_to = now
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a drop or the session's end: the slot starts again
            pass

    def _refuse(self, reason: str) -> None:
        if self.stats.refused:
            return
        self.stats.refused = reason
        names = [name for slot in self._slots for name in slot.groups]
        current = asyncio.current_task()
        for slot in self._slots:
            if slot.task is not None and slot.task is not current:
                slot.task.cancel()
        self.sink.live_unavailable(names, reason, refused=True)


def _close(stream: Any) -> None:
    raw = getattr(stream, "_raw_stream", None)
    try:
        if raw is not None:
            raw.close()
    except Exception:  # noqa: BLE001 - closing a connection that is already gone
        pass


def _now_ms() -> int:
    return int(time.time() * 1000)
