"""Live Tail delivers, FilterLogEvents reconciles: LogTail against the offline account's
streaming StartLiveTail (moto's server in a child process, see demo/livetail.py)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.test_logtail import collect, logs_client, now_ms
from warroom.aws.logtail import LogTail, TailOptions, TailStats
from warroom.aws.pacing import Backoff
from warroom.aws.session import AwsOptions
from warroom.demo.server import MotoServer
from warroom.incident.records import Record

FAST_LISTING = {"DescribeLogGroups": 2000.0, "StartLiveTail": 2000.0}


@pytest.fixture
def live(moto: MotoServer) -> Iterator[MotoServer]:
    """The shared server, Live Tail updates five times a second, call counts from zero."""
    moto.live_tail(session_seconds=3 * 3600.0, update_seconds=0.2, max_results=500,
                   max_groups=10, max_sessions=15)
    moto.account(reset_counts=True)
    yield moto
    moto.live_tail(drop=True, session_seconds=3 * 3600.0, update_seconds=1.0, max_sessions=15)


def options(**overrides: Any) -> TailOptions:
    """Production defaults for FilterLogEvents (1 call/s), quick everything else."""
    base: dict[str, Any] = dict(poll_interval=0.05, idle_interval=0.2, rediscover_every=0.2,
                                rates=dict(FAST_LISTING), backoff=Backoff(base=0.005, cap=0.05))
    base.update(overrides)
    return TailOptions(**base)


def make_groups(logs: Any, names: list[str]) -> None:
    for name in names:
        logs.create_log_group(logGroupName=name)
        logs.create_log_stream(logGroupName=name, logStreamName="s")


def identity(record: Record) -> tuple[str, str, int, str]:
    return (record.group, record.stream, record.timestamp, record.message)


Plan = list[tuple[str, list[tuple[int, str]]]]  # (group, [(ms after the write's start, message)])


class Writer:
    """Writes batches of events from a thread once started, stamped as they are written;
    remembers what it wrote."""

    def __init__(self, logs: Any, plan: Plan,
                 between: Callable[[int], None] | None = None) -> None:
        self.logs = logs
        self.plan = plan
        self.between = between
        self.written: Counter[tuple[str, str, int, str]] = Counter()
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            for index, (group, batch) in enumerate(self.plan):
                now = now_ms()
                events = [{"timestamp": now + offset, "message": message} for offset, message in batch]
                self.logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)
                self.written.update((group, "s", e["timestamp"], e["message"]) for e in events)
                if self.between:
                    self.between(index)
        finally:
            self.done.set()


async def run_tail(server: MotoServer, specs: list[str], opts: TailOptions, writer: Writer,
                   settle_updates: int = 5, timeout: float = 60) -> tuple[list[Record], LogTail, TailStats]:
    """Start the tail, wait for its sessions, write, and collect until everything written
    arrived, nothing is left to backfill and `settle_updates` more updates passed."""
    tail = LogTail(AwsOptions(endpoint_url=server.endpoint, region="us-east-1"), specs, None, opts)
    settled: list[int] = []

    def done(records: list[Record]) -> bool:
        stats = tail.stats()
        if not writer.done.is_set() or len(records) < sum(writer.written.values()) or stats.backfilling:
            return False
        updates = tail.live.stats.updates if tail.live else 0
        if not settled:
            settled.append(updates)
        return updates >= settled[0] + settle_updates

    def start_writing(records: list[Record]) -> bool:
        if tail.stats().live_sessions and not writer._thread.is_alive() and not writer.done.is_set():
            writer.start()
        return done(records)

    async with tail:
        records = await collect(tail, start_writing, timeout=timeout)
        stats = tail.stats()
    return records, tail, stats


def assert_exactly_once(records: list[Record], written: Counter[tuple[str, str, int, str]]) -> None:
    received = Counter(identity(r) for r in records)
    assert received - written == Counter(), "repeated or invented events"
    assert written - received == Counter(), f"lost {sum((written - received).values())} events"
    assert len({(r.group, r.event_id) for r in records}) == len(records)


def plan(groups: list[str], batches: int, per_batch: int, tag: str = "e") -> Plan:
    return [(groups[b % len(groups)], [(i // 4, f"{tag} {groups[b % len(groups)]} {b}.{i}")
                                       for i in range(per_batch)])
            for b in range(batches)]


async def test_live_tail_delivers_and_filter_log_events_stays_within_its_budget(live: MotoServer) -> None:
    logs = logs_client(live)
    groups = [f"/aws/lambda/fn-{i:02d}" for i in range(20)]
    make_groups(logs, groups)
    writer = Writer(logs, plan(groups, 60, 5))
    began = time.monotonic()
    records, tail, stats = await run_tail(live, ["/aws/lambda/fn-"], options(), writer)
    elapsed = time.monotonic() - began
    assert_exactly_once(records, writer.written)
    assert tail.live is not None and tail.live.stats.starts == 2  # 20 groups: two sessions
    assert stats.live_events >= len(records)  # every event came live
    calls = live.account()["counts"].get("FilterLogEvents", {}).get("calls", 0)
    assert 0 < calls <= 1.0 * elapsed + 1  # the session starts' gaps, at 1 call/s at most
    assert calls == stats.filter_calls


async def test_sampled_updates_are_backfilled_exactly_once_with_identical_events(live: MotoServer) -> None:
    """1,200 events in one PutLogEvents (Live Tail sends 500 of them, sampled), among them
    the same message three times in one millisecond; then identical events again live."""
    logs = logs_client(live)
    make_groups(logs, ["/busy/a", "/busy/b"])
    burst = sorted([(i // 10, f"burst {i}") for i in range(1_197)] + [(5, "same")] * 3)
    twice = [(0, "same again")] * 2
    writer = Writer(logs, [("/busy/a", burst), ("/busy/b", twice), ("/busy/a", twice)])
    records, tail, _ = await run_tail(live, ["/busy/"], options(), writer)
    assert_exactly_once(records, writer.written)
    assert tail.live is not None and tail.live.stats.sampled_updates >= 1
    assert Counter(r.message for r in records)["same"] == 3
    assert Counter((r.group, r.message) for r in records)[("/busy/a", "same again")] == 2
    assert live.live_tail()["sampled_updates"] >= 1


@pytest.mark.parametrize("how", ["dropped", "server-end", "renewed"])
async def test_sessions_dropped_ended_or_renewed_lose_and_repeat_nothing(live: MotoServer, how: str) -> None:
    logs = logs_client(live)
    groups = ["/r/a", "/r/b", "/r/c"]
    make_groups(logs, groups)
    # Sessions that end every second (AWS ends one after three hours) leave a gap per group each
    # second to backfill: FilterLogEvents is paced as many times faster, or the backfill
    # never catches up and the tail never settles.
    opts = options() if how == "dropped" else options(rates={**FAST_LISTING, "FilterLogEvents": 20.0})
    if how == "server-end":
        live.live_tail(session_seconds=1.0)
    if how == "renewed":
        opts.live_renew_after = 1.0

    def between(index: int) -> None:
        if how == "dropped" and index % 10 == 5:
            live.live_tail(drop=True)
        time.sleep(0.05)  # spreads the writes over several sessions, not a synchronisation

    writer = Writer(logs, plan(groups, 60, 3), between)
    records, tail, _ = await run_tail(live, ["/r/"], opts, writer)
    assert_exactly_once(records, writer.written)
    assert tail.live is not None and tail.live.stats.starts >= 2 and tail.live.stats.restarts >= 1


async def test_limit_exceeded_means_fewer_sessions_and_polling_for_the_rest(live: MotoServer) -> None:
    logs = logs_client(live)
    groups = [f"/l/g{i:02d}" for i in range(15)]  # two slots of 10 and 5
    make_groups(logs, groups)
    live.live_tail(max_sessions=1)
    writer = Writer(logs, plan(groups, 30, 2))
    opts = options(rates={**FAST_LISTING, "FilterLogEvents": 50.0}, live_retry_after=3600)
    records, tail, stats = await run_tail(live, ["/l/"], opts, writer)
    assert_exactly_once(records, writer.written)
    assert tail.live is not None
    assert tail.live.stats.limit == 1 and stats.live_sessions == 1 and stats.mode == "live+poll"
    assert tail.pacer.stats.by_api["StartLiveTail"] == 2  # no retry loop
    assert live.live_tail()["refused"] >= 1


async def test_since_backfill_and_live_events_come_in_time_order_across_groups(live: MotoServer) -> None:
    logs = logs_client(live)
    groups = ["/m/a", "/m/b", "/m/c"]
    make_groups(logs, groups)
    base = now_ms() - 60_000
    for offset, group in enumerate(groups):  # interleaved across the groups
        logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
            {"timestamp": base + 3 * i + offset, "message": f"old {group} {i}"} for i in range(50)])
    writer = Writer(logs, plan(groups, 6, 2, tag="new"))
    records, tail, _ = await run_tail(live, ["/m/"], options(since_ms=base - 1), writer)
    old = [r for r in records if r.message.startswith("old")]
    assert len(old) == 150
    assert [r.timestamp for r in old] == sorted(r.timestamp for r in old)
    assert records[:150] == old  # history first, in order across groups, then live
    assert_exactly_once(records, writer.written + Counter(identity(r) for r in old))


async def test_groups_beyond_the_sessions_are_read_by_logs_insights(live: MotoServer) -> None:
    logs = logs_client(live)
    groups = [f"/many/g{i}" for i in range(5)]
    make_groups(logs, groups)
    writer = Writer(logs, plan(groups, 25, 3))
    # One session of two groups: three groups are left to Logs Insights.
    opts = options(live_sessions=1, live_groups=2, insights_every=0.3,
                   rates={**FAST_LISTING, "StartQuery": 50.0, "GetQueryResults": 50.0})
    records, tail, stats = await run_tail(live, ["/many/"], opts, writer)
    assert_exactly_once(records, writer.written)
    assert stats.live_groups == 2 and stats.insights_groups == 3 and stats.live_sessions == 1
    by_api = tail.pacer.stats.by_api
    assert by_api["StartQuery"] > 0 and by_api.get("FilterLogEvents", 0) <= 2  # the session's start gaps
    counts = live.account()["counts"]
    assert counts["StartQuery"]["calls"] == by_api["StartQuery"]


async def test_insights_rows_read_back_as_events(live: MotoServer) -> None:
    from warroom.aws.insights import parse_time, query_events
    from warroom.aws.pacing import Pacer
    from warroom.aws.session import AwsSession

    logs = logs_client(live)
    make_groups(logs, ["/ins/a", "/ins/b"])
    t = now_ms() - 5_000
    logs.put_log_events(logGroupName="/ins/a", logStreamName="s", logEvents=[
        {"timestamp": t, "message": "same"}, {"timestamp": t, "message": "same"},
        {"timestamp": t + 7, "message": "a | pipe"}])
    logs.put_log_events(logGroupName="/ins/b", logStreamName="s", logEvents=[{"timestamp": t + 3, "message": "b"}])
    session = AwsSession(AwsOptions(endpoint_url=live.endpoint, region="us-east-1"))
    try:
        events, cut = await query_events(await session.client("logs"), Pacer(), ["/ins/a", "/ins/b"],
                                         t, t + 10)
    finally:
        await session.aclose()
    assert not cut
    assert [(e["logGroupName"], e["timestamp"], e["message"]) for e in events] == [
        ("/ins/a", t, "same"), ("/ins/a", t, "same"), ("/ins/b", t + 3, "b"), ("/ins/a", t + 7, "a | pipe")]
    filtered = logs.filter_log_events(logGroupName="/ins/a")["events"]
    assert {e["ingestionTime"] for e in events if e["logGroupName"] == "/ins/a"} == \
        {e["ingestionTime"] for e in filtered}
    assert parse_time("2024-05-01 10:15:32.123") == 1714558532123


def test_the_status_line_says_how_the_tail_reads() -> None:
    from warroom.aws.tail_worker import describe

    live = TailStats(live_sessions=6, live_groups=60, insights_groups=50, sampled=True,
                     live_events=1204, backfilling=3)
    assert describe(live, 0.8, 1.0) == ("Live Tail 6×60 · Insights 50 · sampled: 1,204 live, "
                                        "backfilling 3 · FilterLogEvents 0.8/1 per s")
    refused = TailStats(live_refused="StartLiveTail refused (AccessDeniedException)")
    assert describe(refused, 1.0, 1.0) == "Live Tail refused: polling · FilterLogEvents 1.0/1 per s"
