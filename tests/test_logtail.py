"""LogTail against moto's HTTP server, with faults injected in front of it."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from warroom.aws.logtail import LogTail, TailOptions, listing_params, spec_matches
from warroom.aws.pacing import Backoff
from warroom.aws.seen import SeenIds
from warroom.aws.session import AwsOptions, AwsSession
from warroom.demo.server import MotoServer
from warroom.errors import UserError
from warroom.incident.records import Record
from warroom.playbook.catalog import load_catalog
from warroom.playbook.matcher import Matcher

FAST = {"FilterLogEvents": 2000.0, "DescribeLogGroups": 2000.0, "StartLiveTail": 2000.0}


def fast_options(**overrides: Any) -> TailOptions:
    """High rates and short waits: these tests check correctness, not pacing."""
    base: dict[str, Any] = dict(poll_interval=0.05, idle_interval=0.2, rediscover_every=0.2,
                                rates=dict(FAST), backoff=Backoff(base=0.005, cap=0.05))
    base.update(overrides)
    return TailOptions(**base)


def logs_client(moto: MotoServer) -> Any:
    return AwsSession(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1")).sync_client("logs")


def now_ms() -> int:
    return int(time.time() * 1000)


async def collect(tail: LogTail, done: Callable[[list[Record]], bool], timeout: float = 60.0) -> list[Record]:
    """Records from the tail until `done(records)` holds, checked as batches arrive and
    every few milliseconds between them (bounded by `timeout`)."""
    got: list[Record] = []
    finished = asyncio.Event()

    async def consume() -> None:
        async for batch in tail.batches():
            got.extend(batch)
            if done(got):
                break
        finished.set()

    task = asyncio.create_task(consume())
    deadline = time.monotonic() + timeout
    try:
        while not finished.is_set() and time.monotonic() < deadline:
            if done(got):
                break
            try:
                await asyncio.wait_for(finished.wait(), 0.05)
            except TimeoutError:
                pass
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return got


# -- group selection --------------------------------------------------------------------


@pytest.mark.parametrize("spec,name,expected", [
    ("/aws/lambda/bos-dev", "/aws/lambda/bos-dev-agent", True),
    ("/aws/lambda/bos-dev-agent", "/aws/lambda/bos-dev-agent", True),
    ("/aws/lambda/bos-dev", "/aws/lambda/kiro-worker", False),
    ("bos-dev", "/aws/lambda/bos-dev-agent", True),
    ("bos-dev", "bos-dev-app", True),
    ("bos-dev", "/aws/lambda/kiro-bos-dev", False),
    ("/aws/lambda/kiro-*", "/aws/lambda/kiro-worker-test-poller", True),
    ("/aws/lambda/kiro-*", "/aws/codebuild/kiro-worker", False),
    ("kiro-*-poller", "/aws/lambda/kiro-worker-test-poller", True),
])
def test_group_specs_select_by_name_prefix_or_glob(spec: str, name: str, expected: bool) -> None:
    assert spec_matches(spec, name) is expected


def test_listing_is_narrowed_server_side_when_the_spec_allows() -> None:
    assert listing_params("/aws/lambda/kiro-*") == {"logGroupNamePrefix": "/aws/lambda/kiro-"}
    assert listing_params("/aws/lambda/x") == {"logGroupNamePrefix": "/aws/lambda/x"}
    assert listing_params("bos-dev") == {}
    assert listing_params("*-poller") == {}


def test_seen_ids_forget_whole_seconds_below_the_floor() -> None:
    seen = SeenIds()
    assert seen.add(1_500, "a") and seen.add(1_500, "b") and seen.add(2_100, "c")
    assert not seen.add(1_500, "a")
    assert len(seen) == 3
    seen.evict_below(2_050)  # rounds down: second 2 is kept
    assert len(seen) == 1 and (2_100, "c") in seen and (1_500, "a") not in seen
    assert seen.floor == 2_000
    seen.evict_below(1_000)  # the floor never goes down
    assert seen.floor == 2_000


# -- reading ------------------------------------------------------------------------------


async def test_backfill_no_follow_reads_the_window_once_in_order(moto: MotoServer) -> None:
    logs = logs_client(moto)
    group = "/aws/lambda/bos-dev-agent"
    logs.create_log_group(logGroupName=group)
    for stream in ("a", "b"):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    t = now_ms() - 60_000
    logs.put_log_events(logGroupName=group, logStreamName="a", logEvents=[
        {"timestamp": t - 3_600_000, "message": "too old"},
        {"timestamp": t, "message": "a1"}, {"timestamp": t + 2, "message": "a2"}])
    logs.put_log_events(logGroupName=group, logStreamName="b", logEvents=[
        {"timestamp": t + 1, "message": "Task timed out after 30.00 seconds"},
        {"timestamp": t + 2, "message": "b2"}])
    matcher = Matcher(load_catalog())
    tail = LogTail(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1"), ["bos-dev"],
                   matcher, fast_options(follow=False, since_ms=t - 600_000))
    async with tail:
        batches = [b async for b in tail.batches()]
    records = [r for b in batches for r in b]
    assert [r.message for r in records] == ["a1", "Task timed out after 30.00 seconds", "a2", "b2"] or \
        [r.message for r in records] == ["a1", "Task timed out after 30.00 seconds", "b2", "a2"]
    assert [r.timestamp for r in records] == sorted(r.timestamp for r in records)
    timeout = records[1]
    assert timeout.stream == "b" and timeout.group == group
    assert timeout.matches and timeout.matches[0].playbook == "lambda-timeout"
    assert all(not r.matches for r in records if r is not timeout)
    stats = tail.stats()
    assert stats.events == 4 and stats.groups == 1 and stats.mode == "poll"


async def test_filter_pattern_goes_to_the_server(moto: MotoServer) -> None:
    logs = logs_client(moto)
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    t = now_ms() - 1000
    logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[
        {"timestamp": t, "message": "ERROR one"}, {"timestamp": t + 1, "message": "INFO two"}])
    tail = LogTail(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1"), ["g"], None,
                   fast_options(follow=False, since_ms=t - 10, filter_pattern="ERROR"))
    async with tail:
        records = [r async for b in tail.batches() for r in b]
    assert [r.message for r in records] == ["ERROR one"]


async def test_groups_and_streams_that_appear_later_are_followed(moto: MotoServer) -> None:
    logs = logs_client(moto)
    logs.create_log_group(logGroupName="/aws/lambda/kiro-a")
    tail = LogTail(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1"),
                   ["/aws/lambda/kiro-*"], None, fast_options())
    new_groups: list[str] = []
    tail.on_new_group = new_groups.append
    wrote = False

    def done(records: list[Record]) -> bool:
        nonlocal wrote
        if not wrote:
            wrote = True
            # Created after the tail started: a new stream in a known group, and a new group.
            logs.create_log_stream(logGroupName="/aws/lambda/kiro-a", logStreamName="late-stream")
            logs.create_log_group(logGroupName="/aws/lambda/kiro-b")
            logs.create_log_stream(logGroupName="/aws/lambda/kiro-b", logStreamName="s")
            logs.create_log_group(logGroupName="/aws/lambda/other")
            logs.create_log_stream(logGroupName="/aws/lambda/other", logStreamName="s")
            t = now_ms()
            for group, stream in (("/aws/lambda/kiro-a", "late-stream"), ("/aws/lambda/kiro-b", "s"),
                                  ("/aws/lambda/other", "s")):
                logs.put_log_events(logGroupName=group, logStreamName=stream,
                                    logEvents=[{"timestamp": t, "message": f"hello {group}"}])
        return len(records) >= 2

    async with tail:
        await tail.start()
        assert set(tail.groups) == {"/aws/lambda/kiro-a"}
        done([])  # write once the tail has its start time
        records = await collect(tail, done, timeout=30)
    assert sorted((r.group, r.stream) for r in records) == [
        ("/aws/lambda/kiro-a", "late-stream"), ("/aws/lambda/kiro-b", "s")]
    assert new_groups == ["/aws/lambda/kiro-b"]


async def test_a_spec_that_matches_nothing_is_reported_and_awaited(moto: MotoServer) -> None:
    tail = LogTail(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1"),
                   ["/aws/lambda/nothing-yet"], None, fast_options())
    async with tail:
        await tail.start()
        assert tail.unmatched == ["/aws/lambda/nothing-yet"] and not tail.groups
        logs = logs_client(moto)
        logs.create_log_group(logGroupName="/aws/lambda/nothing-yet")
        logs.create_log_stream(logGroupName="/aws/lambda/nothing-yet", logStreamName="s")
        logs.put_log_events(logGroupName="/aws/lambda/nothing-yet", logStreamName="s",
                            logEvents=[{"timestamp": now_ms(), "message": "finally"}])
        records = await collect(tail, lambda r: bool(r), timeout=30)
    assert [r.message for r in records] == ["finally"]


async def test_live_tail_one_snapshot_then_close_falls_back_to_polling(moto: MotoServer) -> None:
    logs = logs_client(moto)
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    tail = LogTail(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1"), ["g"], None,
                   fast_options(live_tail=None))
    async with tail:
        await tail.start()

        def done(records: list[Record]) -> bool:
            if tail.pacer.stats.by_api.get("StartLiveTail") and not records and tail._live == "off":
                if not getattr(done, "wrote", False):
                    done.wrote = True  # type: ignore[attr-defined]
                    logs.put_log_events(logGroupName="g", logStreamName="s",
                                        logEvents=[{"timestamp": now_ms(), "message": "polled"}])
            return bool(records)

        async def writer() -> None:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not getattr(done, "wrote", False):
                done([])
                await asyncio.sleep(0.02)  # polling a condition, not synchronising on time

        write_task = asyncio.create_task(writer())
        records = await collect(tail, done, timeout=30)
        await write_task
    assert [r.message for r in records] == ["polled"]
    assert tail.pacer.stats.by_api["StartLiveTail"] >= 1
    assert tail.stats().mode == "poll"


async def test_startup_errors_are_one_line(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    tail = LogTail(AwsOptions(endpoint_url="http://127.0.0.1:9", region="us-east-1"), ["g"], None,
                   fast_options())
    with pytest.raises(UserError, match="cannot reach http://127.0.0.1:9"):
        await tail.start()
    await tail.aclose()
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    tail = LogTail(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1"), ["g"], None,
                   fast_options())
    with pytest.raises(UserError, match="no AWS credentials"):
        await tail.start()
    await tail.aclose()


# -- exactly once, under faults -----------------------------------------------------------

GROUPS = ["/aws/lambda/bos-dev-api", "/aws/lambda/bos-dev-worker", "/aws/lambda/kiro-poller"]
STREAMS = 20
TOTAL = 50_000
BATCH = 500


def plan_writes(start: int, seed: int = 7) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """PutLogEvents calls: 50,000 events over 3 groups and 20 streams, with shared
    milliseconds and late events (older than ones already written to other streams)."""
    rng = random.Random(seed)
    streams = [(GROUPS[i % len(GROUPS)], f"2024/01/01/[$LATEST]{i:032x}") for i in range(STREAMS)]
    calls: list[tuple[str, str, list[dict[str, Any]]]] = []
    clock = start
    seq = 0
    while seq < TOTAL:
        group, stream = streams[rng.randrange(STREAMS)]
        late = rng.random() < 0.2
        # A late batch is up to 1.5 s older than the newest event written so far.
        ts = clock - rng.randrange(200, 1500) if late else clock
        events = []
        for _ in range(min(BATCH, TOTAL - seq)):
            events.append({"timestamp": ts, "message": f"{group} {stream} #{seq} at {ts}"})
            seq += 1
            if rng.random() < 0.7:  # most consecutive events share their millisecond
                ts += 1
        clock = max(clock, ts) + rng.randrange(0, 3)
        calls.append((group, stream, events))
    return calls


async def test_fifty_thousand_events_under_faults_arrive_exactly_once(moto: MotoServer) -> None:
    logs = logs_client(moto)
    for group in GROUPS:
        logs.create_log_group(logGroupName=group)
    tail = LogTail(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1"),
                   ["/aws/lambda/bos-dev", "/aws/lambda/kiro-*"], None,
                   fast_options(late_every=0.5, late_window=5.0, since_ms=now_ms() - 10_000))
    before = moto.faults(throttle=0.2, error=0.1, drop=0.05,
                targets=["Logs_20140328.FilterLogEvents", "Logs_20140328.DescribeLogGroups"], seed=1)["counts"]
    async with tail:
        await tail.start()
        calls = plan_writes(now_ms())
        created: set[str] = set()

        def write_all() -> None:
            for group, stream, events in calls:
                if stream not in created:  # streams appear while the tail runs
                    logs.create_log_stream(logGroupName=group, logStreamName=stream)
                    created.add(stream)
                logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)

        writer = asyncio.create_task(asyncio.to_thread(write_all))
        polls_at_full: list[int] = []

        def done(records: list[Record]) -> bool:
            # Once everything has arrived, watch several more polls of every group so
            # that a repeat would have had the chance to show up.
            if len(records) >= TOTAL and writer.done():
                polls = tail.pacer.stats.by_api.get("FilterLogEvents", 0)
                if not polls_at_full:
                    polls_at_full.append(polls)
                return polls >= polls_at_full[0] + 10 * len(GROUPS)
            return False

        records = await collect(tail, done, timeout=90)
        await writer
    counts = moto.faults()["counts"]
    moto.faults()
    stats = tail.stats()

    written = Counter((g, s, e["timestamp"], e["message"]) for g, s, events in calls for e in events)
    received = Counter((r.group, r.stream, r.timestamp, r.message) for r in records)
    assert sum(written.values()) == TOTAL
    assert received - written == Counter(), "repeated or invented events"
    assert written - received == Counter(), f"lost {sum((written - received).values())} events"
    assert len({(r.group, r.event_id) for r in records}) == TOTAL
    # The faults really happened, and the tail saw each kind.
    assert all(counts.get(k, 0) > before.get(k, 0) for k in ("throttled", "errors", "dropped"))
    assert stats.throttled > 0 and stats.errors > 0 and stats.reconnects > 0
    assert stats.events == TOTAL
    # Memory stayed bounded: only a window of ids is remembered, not all 50,000.
    assert stats.remembered_ids < TOTAL
