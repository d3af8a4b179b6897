"""More groups than Live Tail places: priority and traffic decide, and moving loses nothing;
the filter pattern changed at run time; request-id look-ups within the budget. Against the
offline account (moto's server in a child process) with small limits: 2 sessions x 2 groups."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from tests.test_livetail import FAST_LISTING, assert_exactly_once, live, make_groups, options
from tests.test_logtail import logs_client, now_ms
from warroom.aws.assignment import EVENTS, RECENCY, Activity, Hysteresis, choose
from warroom.aws.logtail import LogTail, TailOptions
from warroom.aws.session import AwsOptions
from warroom.demo.server import MotoServer
from warroom.incident.records import Record
from warroom.playbook.catalog import load_catalog
from warroom.playbook.matcher import Matcher

__all__ = ["live"]  # the fixture, shared with test_livetail

GROUPS = [f"/shift/g{i}" for i in range(8)]
SMALL = dict(live_sessions=2, live_groups=2, insights_every=0.2, assign_every=3600.0,
             rates={**FAST_LISTING, "StartQuery": 50.0, "GetQueryResults": 50.0,
                    "DescribeLogStreams": 50.0, "GetMetricData": 50.0})


# -- choosing (pure) ----------------------------------------------------------------------


def test_priority_first_then_the_busiest() -> None:
    names = ["a", "b", "c", "d", "e"]
    activity = Activity(EVENTS, {"a": 5, "b": 50, "c": 500, "d": 0, "e": 40})
    assert choose(names, (), 2, set(), activity) == {"b", "c"}
    assert choose(names, (), 2, {"d"}, activity) == {"c", "d"}
    assert choose(names, (), 2, {"d", "a", "e"}, activity) == {"a", "e"}  # busiest priority ones


def test_a_group_near_the_cut_does_not_take_a_place_back_and_forth() -> None:
    names = ["a", "b", "c"]
    rule = Hysteresis(margin=2.0)
    assert choose(names, {"a", "b"}, 2, set(), Activity(EVENTS, {"a": 100, "b": 30, "c": 50}), rule) == {"a", "b"}
    assert choose(names, {"a", "b"}, 2, set(), Activity(EVENTS, {"a": 100, "b": 30, "c": 70}), rule) == {"a", "c"}
    # Idle everywhere: nobody moves.
    assert choose(names, {"b", "c"}, 2, set(), Activity(EVENTS, {}), rule) == {"b", "c"}
    # A priority group always takes the place of a group that is not.
    assert choose(names, {"a", "b"}, 2, {"c"}, Activity(EVENTS, {"a": 100, "b": 30}), rule) == {"a", "c"}


def test_last_event_times_rank_with_their_own_margin() -> None:
    names = ["a", "b", "c"]
    rule = Hysteresis(recency_ms=60_000)
    base = 1_700_000_000_000
    close = Activity(RECENCY, {"a": base, "b": base, "c": base + 30_000})
    assert choose(names, {"a", "b"}, 2, set(), close, rule) == {"a", "b"}
    later = Activity(RECENCY, {"a": base, "b": base + 1, "c": base + 90_000})
    assert choose(names, {"a", "b"}, 2, set(), later, rule) == {"b", "c"}
    assert choose(names, {"a", "b", "c"}, 1, set(), later, rule) == {"c"}  # fewer places: the best stay


# -- against the offline account -------------------------------------------------------------


class Reader:
    """Consumes a tail in a task; `until` waits (bounded) for a condition on what arrived."""

    def __init__(self, tail: LogTail) -> None:
        self.tail = tail
        self.records: list[Record] = []
        self.error: BaseException | None = None
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            async for batch in self.tail.batches():
                self.records.extend(batch)
        except Exception as exc:  # noqa: BLE001 - the test reports it
            self.error = exc

    async def until(self, condition: Callable[[], bool], what: str, timeout: float = 40.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.error is None, self.error
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await asyncio.sleep(0.05)  # polling a condition, bounded by the deadline

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


def new_tail(server: MotoServer, specs: list[str], opts: TailOptions, matcher: Matcher | None = None) -> LogTail:
    return LogTail(AwsOptions(endpoint_url=server.endpoint, region="us-east-1"), specs, matcher, opts)


class Log:
    """Writes events (stamped now) and remembers them."""

    def __init__(self, logs: Any) -> None:
        self.logs = logs
        self.written: Counter[tuple[str, str, int, str]] = Counter()

    async def put(self, group: str, messages: list[str], remember: bool = True) -> None:
        stamp = now_ms()
        events = [{"timestamp": stamp, "message": m} for m in messages]
        await asyncio.to_thread(self.logs.put_log_events, logGroupName=group, logStreamName="s",
                                logEvents=events)
        if remember:
            self.written.update((group, "s", stamp, m) for m in messages)


def live_groups(tail: LogTail) -> set[str]:
    return {g.name for g in tail.groups.values() if g.live}


def placed(tail: LogTail) -> set[str]:
    return tail.live.assigned() if tail.live is not None else set()


async def test_sessions_follow_a_shift_of_traffic_and_the_handover_loses_and_repeats_nothing(
        live: MotoServer) -> None:
    logs = logs_client(live)
    make_groups(logs, GROUPS)
    log = Log(logs)
    for name in GROUPS[4:]:  # busy before the tail starts: the metric ranks them first
        await log.put(name, [f"before {name} {i}" for i in range(20)], remember=False)
    tail = new_tail(live, ["/shift/"], options(**SMALL))
    reader = Reader(tail)
    try:
        await reader.until(lambda: live_groups(tail) == set(GROUPS[4:]), "sessions on the busy groups")
        assert tail.stats().assigned_by == "activity" and tail.stats().insights_groups == 4
        for rnd in range(3):
            for name in GROUPS:
                await log.put(name, [f"one {name} {rnd}.{i}" for i in range(3)])
        # The traffic moves to g0..g3, five times what g4..g7 had.
        for rnd in range(5):
            for name in GROUPS[:4]:
                await log.put(name, [f"shift {name} {rnd}.{i}" for i in range(20)])
        await reader.until(lambda: not tail.stats().backfilling, "the sessions' start backfilled")
        filter_calls = tail.pacer.stats.by_api.get("FilterLogEvents", 0)
        await tail.reassign()
        assert placed(tail) == set(GROUPS[:4])
        # Written during the handover, in every group.
        for rnd in range(3):
            for name in GROUPS:
                await log.put(name, [f"handover {name} {rnd}.{i}" for i in range(3)])
        await reader.until(lambda: live_groups(tail) == set(GROUPS[:4]), "sessions on the new busy groups")
        for name in GROUPS:
            await log.put(name, [f"after {name} {i}" for i in range(3)])
        total = sum(log.written.values())
        await reader.until(lambda: len(reader.records) >= total and not tail.stats().backfilling,
                           "every event")
        await tail.reassign()  # the same traffic: nothing moves
        assert placed(tail) == set(GROUPS[:4])
        # Both ways, Logs Insights read the handover window: no FilterLogEvents call.
        assert tail.pacer.stats.by_api.get("FilterLogEvents", 0) == filter_calls
        settle = tail.live.stats.updates if tail.live else 0
        await reader.until(lambda: tail.live is not None and tail.live.stats.updates >= settle + 5,
                           "a few more updates")
    finally:
        await reader.close()
        await tail.aclose()
    assert_exactly_once(reader.records, log.written)


async def test_metric_denied_falls_back_to_the_last_event_time(live: MotoServer) -> None:
    logs = logs_client(live)
    make_groups(logs, GROUPS)
    denied = live.faults()["counts"].get("denied", 0)
    live.faults(deny=["GetMetricData"])
    log = Log(logs)
    # With a matcher, Insights reads only symptom candidates: the tail does not see these
    # lines, the groups' streams say when they came.
    tail = new_tail(live, ["/shift/"], options(**SMALL), Matcher(load_catalog()))
    reader = Reader(tail)
    try:
        await reader.until(lambda: len(live_groups(tail)) == 4, "the sessions")
        first = live_groups(tail)
        assert first == set(GROUPS[:4])  # nothing to rank them by at the start: name order
        assert tail.stats().insights_filtered
        live.account(reset_counts=True)
        for name in GROUPS[5:7]:
            await log.put(name, [f"plain line {name} {i}" for i in range(5)])
        await tail.reassign()
        assert tail.stats().assigned_by == "last event"
        assert set(GROUPS[5:7]) <= placed(tail) and len(placed(tail)) == 4
        counts = live.account()["counts"]
        assert counts["DescribeLogStreams"]["calls"] == 4  # only the groups Insights reads filtered
        assert live.faults()["counts"]["denied"] >= denied + 2  # at the start, and now
        await reader.until(lambda: set(GROUPS[5:7]) <= live_groups(tail), "sessions on the recent groups")
    finally:
        await reader.close()
        await tail.aclose()


async def test_priority_groups_get_sessions_first(live: MotoServer) -> None:
    logs = logs_client(live)
    make_groups(logs, GROUPS)
    tail = new_tail(live, ["/shift/"], options(**SMALL))
    reader = Reader(tail)
    try:
        await reader.until(lambda: len(live_groups(tail)) == 4, "the sessions")
        tail.set_priority([GROUPS[6], GROUPS[7]])
        await tail.reassign()
        assert {GROUPS[6], GROUPS[7]} <= placed(tail)
        await reader.until(lambda: {GROUPS[6], GROUPS[7]} <= live_groups(tail), "sessions on the priority groups")
    finally:
        await reader.close()
        await tail.aclose()


async def test_a_pattern_narrowed_then_widened_loses_and_repeats_nothing(live: MotoServer) -> None:
    logs = logs_client(live)
    groups = ["/pat/a", "/pat/b"]
    make_groups(logs, groups)
    log = Log(logs)
    # A short memory window: only what the pattern keeps remembered keeps the widened
    # backfill from showing again what it reads a second time.
    tail = new_tail(live, ["/pat/"], options(overlap=0.3, late_window=0.5, late_every=0.5))
    reader = Reader(tail)

    def got(message: str) -> bool:
        return any(r.message == message for r in reader.records)

    try:
        await reader.until(lambda: tail.stats().live_sessions == 1, "the session")
        await log.put("/pat/a", ["keep 1", "drop 1"])
        await reader.until(lambda: got("drop 1"), "the first events")
        starts = tail.live.stats.starts if tail.live else 0
        tail.set_filter_pattern("keep")
        await reader.until(lambda: tail.live is not None and tail.live.stats.starts > starts
                           and tail.stats().live_sessions == 1 and not tail.stats().backfilling,
                           "the session restarted with the pattern")
        await log.put("/pat/a", ["keep 2", "drop 2"])
        await log.put("/pat/b", ["drop 2b", "keep 2b"])
        await reader.until(lambda: got("keep 2") and got("keep 2b"), "the narrowed events")
        updates = tail.live.stats.updates if tail.live else 0
        await reader.until(lambda: tail.live is not None and tail.live.stats.updates >= updates + 3,
                           "a few more updates")
        assert not got("drop 2") and not got("drop 2b")  # filtered at the source
        # Later events move the remembered window on, past "drop 2": the widening must
        # still read it, and not show "keep 2" again.
        await reader.until(lambda: tail.live is not None and tail.live.stats.updates >= updates + 12,
                           "two seconds of updates")
        await log.put("/pat/a", ["keep 3"])
        await log.put("/pat/b", ["keep 3b"])
        await reader.until(lambda: got("keep 3") and got("keep 3b"), "later events")
        tail.set_filter_pattern(None)
        await log.put("/pat/b", ["drop 3"])
        await reader.until(lambda: got("drop 2") and got("drop 2b") and got("drop 3")
                           and not tail.stats().backfilling, "the widened window")
        updates = tail.live.stats.updates if tail.live else 0
        await reader.until(lambda: tail.live is not None and tail.live.stats.updates >= updates + 3,
                           "a few more updates")
    finally:
        await reader.close()
        await tail.aclose()
    assert_exactly_once(reader.records, log.written)


async def test_lookup_finds_a_request_id_within_the_filter_budget(live: MotoServer) -> None:
    logs = logs_client(live)
    groups = [f"/req/g{i}" for i in range(4)]
    make_groups(logs, groups)
    log = Log(logs)
    start = now_ms()
    for i, name in enumerate(groups):
        await log.put(name, [f"START RequestId: abc-{i}", "noise", f"END RequestId: abc-{i}"])
    await log.put(groups[2], ["ERROR abc-1 retried from another function"])
    tail = new_tail(live, ["/req/"], options(filter_budget=2.0))
    live.account(reset_counts=True)
    try:
        began = time.monotonic()
        found = await tail.lookup("abc-1", start, now_ms() + 1000)
        assert [(r.group, r.message) for r in found] == [
            ("/req/g1", "START RequestId: abc-1"), ("/req/g1", "END RequestId: abc-1"),
            ("/req/g2", "ERROR abc-1 retried from another function")]
        assert [r.timestamp for r in found] == sorted(r.timestamp for r in found)
        only = await tail.lookup("abc-1", start, now_ms() + 1000, groups=["/req/g2"])
        assert [r.message for r in only] == ["ERROR abc-1 retried from another function"]
        calls = live.account()["counts"]["FilterLogEvents"]["calls"]
        assert calls == 5 == tail.pacer.stats.by_api["FilterLogEvents"]  # one page a group, each time
        assert calls <= 2 + 2.0 * (time.monotonic() - began)  # the bucket's burst, then 2 a second
        with pytest.raises(ValueError):
            await tail.lookup('abc" OR "x', start, now_ms())
    finally:
        await tail.aclose()


async def test_groups_without_a_session_are_read_filtered_on_the_symptoms_literals(live: MotoServer) -> None:
    logs = logs_client(live)
    make_groups(logs, GROUPS)
    log = Log(logs)
    symptom = "[ERROR] Runtime.ImportModuleError: Unable to import module 'handler': No module named 'handler'"
    tail = new_tail(live, ["/shift/"], options(**SMALL), Matcher(load_catalog()))
    reader = Reader(tail)
    try:
        await reader.until(lambda: len(live_groups(tail)) == 4, "the sessions")
        stats = tail.stats()
        assert stats.insights_groups == 4 and stats.insights_filtered
        for name in GROUPS:
            await log.put(name, [f"plain {name}", f"{symptom} {name}"], remember=False)
        sessions = live_groups(tail)
        wanted = {f"plain {n}" for n in sessions} | {f"{symptom} {n}" for n in GROUPS}
        await reader.until(lambda: wanted <= {r.message for r in reader.records}, "the lines")
        queries = tail.pacer.stats.by_api.get("StartQuery", 0)
        await reader.until(lambda: tail.pacer.stats.by_api.get("StartQuery", 0) >= queries + 2,
                           "two more Insights reads")
    finally:
        await reader.close()
        await tail.aclose()
    by_message = Counter(r.message for r in reader.records)
    assert set(by_message) == wanted and set(by_message.values()) == {1}  # no plain line of the others
    assert all(r.matches for r in reader.records if r.message.startswith(symptom))


async def test_a_group_deleted_under_insights_is_dropped_and_the_others_still_read(live: MotoServer) -> None:
    """StartQuery fails as a whole for a group that no longer exists: the tail stops
    following the deleted one and goes on reading the others by Logs Insights, rather
    than poll every group without a session."""
    logs = logs_client(live)
    make_groups(logs, GROUPS)
    log = Log(logs)
    tail = new_tail(live, ["/shift/"], options(**SMALL))
    notices: list[str] = []
    tail.on_notice = notices.append
    reader = Reader(tail)
    try:
        await reader.until(lambda: len(live_groups(tail)) == 4, "the sessions")
        read = sorted(name for name in GROUPS if name not in live_groups(tail))
        gone, kept = read[0], read[1:]
        await asyncio.to_thread(logs.delete_log_group, logGroupName=gone)
        for name in kept:
            await log.put(name, [f"after {name}"])
        await reader.until(lambda: {f"after {n}" for n in kept} <= {r.message for r in reader.records},
                           "the other groups' lines")
        assert gone not in tail.groups and tail.stats().insights_groups == len(kept)
        assert not tail._group_tasks  # noqa: SLF001 - no group fell back to polling
    finally:
        await reader.close()
        await tail.aclose()
    assert notices == [f"log group(s) deleted, no longer followed: {gone}"]


async def test_sessions_restarted_at_the_account_limit_keep_their_places(live: MotoServer) -> None:
    """The account holds exactly the tail's two sessions: a restart is refused while the
    server still counts the session it replaces; it is retried, not taken for a lower limit."""
    logs = logs_client(live)
    groups = [f"/lim/g{i}" for i in range(4)]
    make_groups(logs, groups)
    live.live_tail(max_sessions=2)
    tail = new_tail(live, ["/lim/"], options(live_sessions=2, live_groups=2, live_renew_after=0.5))
    reader = Reader(tail)
    try:
        await reader.until(lambda: tail.live is not None and tail.live.stats.restarts >= 6, "restarts")
        await reader.until(lambda: tail.stats().live_sessions == 2, "both sessions open")
        assert tail.live is not None and tail.live.stats.limit == 2
        assert tail.stats().mode == "live"  # no group fell back to polling
    finally:
        await reader.close()
        await tail.aclose()


async def test_a_session_whose_groups_are_all_released_waits_for_new_ones(live: MotoServer) -> None:
    logs = logs_client(live)
    groups = [f"/rel/g{i}" for i in range(4)]
    make_groups(logs, groups)
    log = Log(logs)
    tail = new_tail(live, ["/rel/"], options(live_sessions=2, live_groups=2))
    reader = Reader(tail)
    try:
        await reader.until(lambda: tail.stats().live_sessions == 2, "the sessions")
        assert tail.live is not None
        tail.live.release(groups[:2])
        await reader.until(lambda: tail.stats().live_sessions == 1, "one session ended")
        updates = tail.live.stats.updates
        await reader.until(lambda: tail.live is not None and tail.live.stats.updates >= updates + 3, "updates")
        assert tail.live.refused is None and tail.stats().live_sessions == 1
        tail.live.assign({groups[0]: tail.groups[groups[0]].arn})
        await reader.until(lambda: tail.stats().live_sessions == 2, "the session again")
        await log.put(groups[0], ["back"])
        await reader.until(lambda: any(r.message == "back" for r in reader.records), "its event")
    finally:
        await reader.close()
        await tail.aclose()
