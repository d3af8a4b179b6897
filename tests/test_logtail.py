"""LogTail against moto's HTTP server, with faults injected in front of it."""

from __future__ import annotations

import asyncio
import itertools
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


async def test_the_backfill_comes_in_time_order_across_groups_and_live_lines_are_not_held(
        moto: MotoServer) -> None:
    """The console's tail (hold_live off): what `--since` reads is handed on in one block in
    time order across groups, whenever it is complete; what is written after the start is not
    held for it."""
    logs = logs_client(moto)
    for group in ("/aws/lambda/one", "/aws/lambda/two"):
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")
    t = now_ms() - 120_000
    logs.put_log_events(logGroupName="/aws/lambda/one", logStreamName="s", logEvents=[
        {"timestamp": t + i, "message": f"one {i}"} for i in (0, 2, 4)])
    logs.put_log_events(logGroupName="/aws/lambda/two", logStreamName="s", logEvents=[
        {"timestamp": t + i, "message": f"two {i}"} for i in (1, 3)])
    tail = LogTail(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1"), ["/aws/lambda/"], None,
                   fast_options(since_ms=t - 10, hold_live=False))
    async with tail:
        await tail.start()
        logs.put_log_events(logGroupName="/aws/lambda/two", logStreamName="s", logEvents=[
            {"timestamp": now_ms(), "message": "live"}])
        records = await collect(tail, lambda got: len(got) >= 6)
    backfill = [r.message for r in records if r.message != "live"]
    assert backfill == ["one 0", "two 1", "one 2", "two 3", "one 4"]
    assert "live" in [r.message for r in records]


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


async def test_live_tail_refused_is_said_once_and_polling_carries_on(moto: MotoServer) -> None:
    logs = logs_client(moto)
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    moto.faults(deny=["logs:StartLiveTail"])
    tail = LogTail(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1"), ["g"], None, fast_options())
    notices: list[str] = []
    tail.on_notice = notices.append
    wrote = False

    def done(records: list[Record]) -> bool:
        nonlocal wrote
        if notices and not wrote:  # refused: only polling can bring this one
            wrote = True
            logs.put_log_events(logGroupName="g", logStreamName="s",
                                logEvents=[{"timestamp": now_ms(), "message": "polled"}])
        return bool(records)

    async with tail:
        records = await collect(tail, done, timeout=30)
        stats = tail.stats()
    moto.faults()
    assert [r.message for r in records] == ["polled"]
    assert len(notices) == 1 and "AccessDeniedException" in notices[0]
    assert tail.pacer.stats.by_api["StartLiveTail"] == 1
    assert stats.mode == "poll" and stats.live_refused == notices[0]


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


@pytest.mark.parametrize("live", [False, True], ids=["polling", "live-tail"])
async def test_fifty_thousand_events_under_faults_arrive_exactly_once(moto: MotoServer, live: bool) -> None:
    """Polling alone, or Live Tail (sampled: 500 of each second's thousands) with
    FilterLogEvents backfilling what the samples left out, through the same faults."""
    logs = logs_client(moto)
    for group in GROUPS:
        logs.create_log_group(logGroupName=group)
    tail = LogTail(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1"),
                   ["/aws/lambda/bos-dev", "/aws/lambda/kiro-*"], None,
                   fast_options(late_every=0.5, late_window=5.0, since_ms=now_ms() - 10_000,
                                live_tail=live, max_remembered=5_000))
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
            # Once everything has arrived, watch several more polls of every group (or
            # session updates, with nothing left to backfill) so that a repeat would have
            # had the chance to show up.
            if len(records) >= TOTAL and writer.done():
                if live and (tail.live is None or tail.stats().backfilling):
                    return False
                if live:  # one session holds the three groups
                    polls, more = tail.live.stats.updates if tail.live else 0, 3
                else:
                    polls, more = tail.pacer.stats.by_api.get("FilterLogEvents", 0), 10 * len(GROUPS)
                if not polls_at_full:
                    polls_at_full.append(polls)
                return polls >= polls_at_full[0] + more
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
    if live:  # the samples really left events out, and the backfill brought them
        assert tail.live is not None and tail.live.stats.sampled_updates > 0
        assert 0 < stats.live_events < TOTAL
    # Memory stayed bounded: only a window of ids is remembered, not all 50,000. (Live Tail
    # keeps every id of a sampled second until its backfill has run, so only polling is held
    # to this here; the eviction itself is tested on `Seen` above.)
    if not live:
        assert stats.remembered_ids < TOTAL


# -- cheaper reads, same deliveries --------------------------------------------------------


def test_seen_ids_slices_cover_the_window_exactly_in_windows_of_about_the_target() -> None:
    seen = SeenIds()
    for i in range(30_000):  # 10,000 ids a second in seconds 5, 6 and 7
        seen.add(5_000 + i // 10, str(i))
    assert seen.density(8_000) == 10_000 and seen.density(6_500) == 10_000 / 3
    for start, end, target in [(4_000, 9_000, 9_000), (5_500, 6_200, 3_000), (0, 100, 10),
                               (5_000, 5_003, 1), (4_990, 5_010, 7)]:
        windows = seen.slices(start, end, target)
        assert windows[0][0] == start and windows[-1][1] == end
        assert all(lo <= hi for lo, hi in windows)
        assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(windows))
        for lo, hi in windows:
            held = sum(1 for i in range(30_000) if lo <= 5_000 + i // 10 <= hi)
            assert held <= max(target, 10)  # 10 ids share each millisecond here
    assert seen.slices(4_000, 9_000, 9_000) == [(4_000, 5_899), (5_900, 6_799), (6_800, 7_699),
                                                 (7_700, 9_000)]
    assert seen.slices(10, 5, 100) == []


async def test_a_late_event_a_narrowed_head_poll_skips_is_swept_exactly_once(moto: MotoServer) -> None:
    """A busy group's head poll re-reads less than `overlap`; what it skips is owed to the
    next sweep, even beyond the sweep's own window."""
    logs = logs_client(moto)
    logs.create_log_group(logGroupName="busy")
    logs.create_log_stream(logGroupName="busy", logStreamName="s")
    base = now_ms() - 10_000
    logs.put_log_events(logGroupName="busy", logStreamName="s", logEvents=[
        {"timestamp": base + i * 10 // 3, "message": f"dense {i}"} for i in range(900)])  # 300/s, 3 s
    # Sweeps only when called below; a page of 100 makes 300 events/s a busy group.
    tail = LogTail(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1"), ["busy"], None,
                   fast_options(since_ms=base - 1_000, merge_since=False, page_limit=100, overlap=1.0, min_overlap=0.05,
                                late_window=1.5, late_every=3600))

    def drain() -> list[Record]:
        out: list[Record] = []
        while not tail._queue.empty():
            out.extend(tail._queue.get_nowait())
        return out

    async with tail:
        await tail.start()
        group = tail.groups["busy"]
        got = []
        while True:  # catch up
            new = await tail._poll(group)
            got += drain()
            if not new:
                break
        assert len(got) == 900
        high = group.high_ts
        assert high is not None
        # Late by 0.9 s (within `overlap`), then fresh events 2 s on.
        logs.put_log_events(logGroupName="busy", logStreamName="s",
                            logEvents=[{"timestamp": high - 900, "message": "late"}])
        logs.put_log_events(logGroupName="busy", logStreamName="s", logEvents=[
            {"timestamp": high + 2_000 + i, "message": f"fresh {i}"} for i in range(50)])
        narrowed = tail.reads.narrowed_polls
        await tail._poll(group)
        got += drain()
        assert tail.reads.narrowed_polls == narrowed + 1
        assert "late" not in [r.message for r in got] and len(got) == 950
        assert group.owed_from is not None and group.owed_from <= high - 900
        # The sweep's own window (1.5 s below the newest, now 2 s on) does not reach the
        # late event: only what the head owes does.
        await tail._poll(group, sweep=True)
        got += drain()
        assert [r.message for r in got].count("late") == 1
        assert group.owed_from is None
        await tail._poll(group, sweep=True)
        await tail._poll(group)
        got += drain()
    assert len(got) == 951 and len({r.event_id for r in got}) == 951


async def test_filter_answers_parsed_fast_equal_what_botocore_parses(moto: MotoServer) -> None:
    from warroom.aws.filteranswers import fast_filter_answers as _fast_filter_answers

    logs = logs_client(moto)
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    t = now_ms() - 5_000
    logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[
        {"timestamp": t + i // 3, "message": f"m {i} é \x1b[2J {{\"k\": null}}"} for i in range(300)])
    options = AwsOptions(endpoint_url=moto.endpoint, region="us-east-1")
    plain_session, fast_session = AwsSession(options), AwsSession(options)
    try:
        plain = await plain_session.client("logs")
        fast = await fast_session.client("logs")
        _fast_filter_answers(fast)
        for extra in ({}, {"limit": 120}, {"endTime": t + 10}):
            a = await plain.filter_log_events(logGroupName="g", interleaved=True, startTime=t, **extra)
            b = await fast.filter_log_events(logGroupName="g", interleaved=True, startTime=t, **extra)
            a.pop("ResponseMetadata")
            assert b.pop("ResponseMetadata")["HTTPStatusCode"] == 200
            assert a == b and a["events"]
        with pytest.raises(Exception) as raised:  # errors are still botocore's
            await fast.filter_log_events(logGroupName="missing", interleaved=True)
        assert type(raised.value).__name__ == "ResourceNotFoundException"
    finally:
        await plain_session.aclose()
        await fast_session.aclose()


@pytest.mark.parametrize("as_json", [True, False])
def test_printing_a_batch_at_once_equals_printing_each_event(as_json: bool) -> None:
    import io

    from warroom.tail import TailPrinter, may_hold_secrets

    matcher = Matcher(load_catalog())
    lines = ["plain line", "Task timed out after 30.00 seconds", "key AKIAABCDEFGHIJKLMNOP here",
             "Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345", "ſession_token = ABCDEFGHIJKLMNOPQRSTUV",
             "\x1b]0;title\x07 \u009b control", "https://x-access-token:ghs_abc@github.com/o/r",
             "ghp_" + "a" * 36, "naïve café, no secret"]
    records = [Record("logs", "/aws/lambda/bos-dev-api", "s", 1_700_000_000_000 + i, f"id{i}", line)
               for i, line in enumerate(lines)]
    for record, matches in zip(records, matcher.match_many([r.message for r in records]), strict=True):
        record.matches = matches
    for batch in ([r] for r in records), [records], [records[:1], records[5:6], records[8:]]:
        each, whole = io.StringIO(), io.StringIO()
        printer = TailPrinter(whole, as_json)
        for part in batch:
            printer.batch(part)
            each.write("".join(TailPrinter(each, as_json).format(r) for r in part))
        assert whole.getvalue() == each.getvalue()
    assert "AKIAABCDEFGHIJKLMNOP" not in whole.getvalue()
    assert not may_hold_secrets("bench seq=1 sent=2.0\nSTART RequestId: 42")
    assert all(may_hold_secrets(f"ok\n{line}\nok") for line in lines[2:5] + lines[6:8])
