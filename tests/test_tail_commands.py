"""What the console asks of its log tails: the mailbox, the standing commands, R's lookup in
CloudWatch and a filter pattern applied at the source, through a real tail child on moto."""

from __future__ import annotations

import asyncio
import threading
import time

import boto3

from warroom.aws.session import AwsOptions, AwsSession
from warroom.demo.server import MotoServer
from warroom.incident import source_events as ev
from warroom.incident.records import Record
from warroom.incident.ring import Ring
from warroom.tui.feeds import tail_feed
from warroom.tui.logmodel import LogModel
from warroom.tui.source_thread import Feed, Post
from warroom.tui.tail_commands import TailCommands

GROUP = "/aws/lambda/bos-dev-api-handler"
REQUEST = "8f1c2a77-5d3e-4b1a-9c0d-2e6f7a8b9c01"


def rec(ts: int, message: str, group: str = GROUP, stream: str = "s1") -> Record:
    return Record("logs", group, stream, ts, f"id-{ts}-{message}", message)


# -- the mailbox and the console's side -------------------------------------------------------

async def test_commands_put_from_another_thread_arrive_in_order() -> None:
    mailbox = ev.Mailbox()
    sent = [ev.Lookup(n, f"term-{n}", 0, 1) for n in range(50)]
    thread = threading.Thread(target=lambda: [mailbox.put(c) for c in sent])
    thread.start()
    got = [await mailbox.get() for _ in sent]
    thread.join()
    assert got == sent


def test_a_tail_that_starts_later_is_told_what_is_in_force() -> None:
    tails = TailCommands()
    assert tails.lookup("r", 0, 1) is None  # no tail to ask
    first = Feed("log tail us-east-1", lambda post: asyncio.sleep(0), mailbox=ev.Mailbox())
    tails.started("a", first)
    tails.narrow_to('"ERROR"')
    tails.prioritise_groups(["/g/2", "/g/1", "/g/2"])
    tails.prioritise_groups(["/g/1", "/g/2"])  # the same groups: not told again
    later = Feed("log tail eu-west-1", lambda post: asyncio.sleep(0), mailbox=ev.Mailbox())
    tails.started("b", later)
    assert first.mailbox is not None and later.mailbox is not None
    assert later.mailbox.standing() == [ev.Narrow('"ERROR"'), ev.Prioritise(("/g/1", "/g/2"))]
    assert tails.lookup("r", 0, 1) == (1, 2)
    tails.stopped("a")
    assert tails.lookup("r", 0, 1) == (2, 1)
    assert tails.narrow_to(None) == 1 and later.mailbox.standing()[0] == ev.Narrow(None)


def test_fetched_lines_join_the_request_in_time_order_once() -> None:
    ring = Ring(100)
    for ts, message in [(5_000, f"START RequestId: {REQUEST}"), (6_000, "other request"),
                        (7_000, f"END RequestId: {REQUEST}")]:
        ring.append(rec(ts, message))
    model = LogModel(ring, lambda: 10_000)
    model.set_request(REQUEST)
    assert [model.record(i).timestamp for i in range(len(model))] == [5_000, 7_000]
    older = rec(1_000, f"{REQUEST} loading building graph")
    fetched = [older, rec(5_000, f"START RequestId: {REQUEST}"),     # the buffer has it
               rec(2_000, "a line without the id"), rec(3_000, f"[INFO] {REQUEST} cache miss")]
    assert model.add_fetched(fetched) == 2
    assert [model.record(i).timestamp for i in range(len(model))] == [1_000, 3_000, 5_000, 7_000]
    assert model.add_fetched([older]) == 0
    # The line arrives live after all: shown once, the buffer's.
    seq = ring.append(rec(3_000, f"[INFO] {REQUEST} cache miss"))
    model.extend([seq])
    assert [model.record(i).timestamp for i in range(len(model))] == [1_000, 3_000, 5_000, 7_000]
    assert model.seq(1) == seq
    model.set_filter("")  # leaving the request forgets what was fetched for it
    assert model.fetched == [] and len(model) == len(ring)


# -- through a tail child on the offline account ------------------------------------------------

async def _until(inbox: ev.Inbox, seen: list[ev.SourceEvent], done: object, what: str) -> None:
    deadline = time.monotonic() + 90  # a bound against hanging, not a speed check
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"the tail child never {what}"
        await asyncio.sleep(0.1)
        seen.extend(inbox.take())


async def test_a_tail_child_looks_up_a_request_and_narrows_at_the_source(moto: MotoServer) -> None:
    logs = boto3.client("logs", endpoint_url=moto.endpoint, region_name="us-east-1")
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="s1")
    now = int(time.time() * 1000)
    old = now - 20 * 60_000  # long before the tail's start: only a lookup finds these
    logs.put_log_events(logGroupName=GROUP, logStreamName="s1", logEvents=[
        {"timestamp": old, "message": f"START RequestId: {REQUEST} Version: $LATEST"},
        {"timestamp": old + 1, "message": "START RequestId: 00000000-0000-0000-0000-000000000000"},
        {"timestamp": old + 2, "message": f"REPORT RequestId: {REQUEST}\tDuration: 3.1 ms"}])
    session = AwsSession(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1"))
    inbox, mailbox = ev.Inbox(), ev.Mailbox()
    seen: list[ev.SourceEvent] = []
    task = asyncio.create_task(tail_feed(inbox.post, session, None, [GROUP], now - 60_000, mailbox=mailbox))
    try:
        mailbox.put(ev.Lookup(7, REQUEST, now - 30 * 60_000, now))

        def answered(token: int) -> ev.Found | None:
            return next((e for e in seen if isinstance(e, ev.Found) and e.token == token), None)

        await _until(inbox, seen, lambda: answered(7), "answered the lookup")
        found = answered(7)
        assert found is not None and not found.error
        assert [r.message for r in found.records] == [f"START RequestId: {REQUEST} Version: $LATEST",
                                                      f"REPORT RequestId: {REQUEST}\tDuration: 3.1 ms"]
        mailbox.put(ev.Narrow("keep"))
        mailbox.put(ev.Lookup(8, REQUEST, now - 30 * 60_000, now))  # answered after the Narrow took
        await _until(inbox, seen, lambda: answered(8), "answered the second lookup")
        at = int(time.time() * 1000)
        logs.put_log_events(logGroupName=GROUP, logStreamName="s1", logEvents=[
            {"timestamp": at, "message": "keep 1"}, {"timestamp": at + 1, "message": "drop 1"},
            {"timestamp": at + 2, "message": "keep 2"}])

        def delivered() -> list[str]:
            return [r.message for e in seen if isinstance(e, ev.Records) for r in e.records]

        await _until(inbox, seen, lambda: "keep 2" in delivered(), "delivered the matching lines")
        assert "keep 1" in delivered() and "drop 1" not in delivered()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await session.aclose()


# -- in the console ----------------------------------------------------------------------------

async def test_r_fetches_the_requests_older_lines_and_pattern_narrows(moto: MotoServer) -> None:
    from tests.tui_helpers import TARGET, screen_text, until
    from warroom.incident.store import IncidentStore
    from warroom.tui.app import ConsoleApp

    logs = boto3.client("logs", endpoint_url=moto.endpoint, region_name="us-east-1")
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="s1")
    now = int(time.time() * 1000)
    older = f"{now - 5 * 60_000}"
    logs.put_log_events(logGroupName=GROUP, logStreamName="s1", logEvents=[
        {"timestamp": now - 5 * 60_000, "message": f"START RequestId: {REQUEST} Version: $LATEST"},
        {"timestamp": now - 1_000, "message": f"END RequestId: {REQUEST}"}])
    session = AwsSession(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1"))
    mailbox = ev.Mailbox()

    async def tail(post: Post) -> None:  # the tail follows from two seconds ago: START is older
        await tail_feed(post, session, None, [GROUP], now - 2_000, in_process=True, mailbox=mailbox)

    app = ConsoleApp(IncidentStore(), TARGET, feeds=[Feed("log tail", tail, mailbox=mailbox)])
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            logs_pane = app.main.logs
            await until(pilot, lambda: len(logs_pane.model) == 1, "the END line to arrive")
            logs_pane.focus()
            logs_pane.cursor = 0
            await pilot.press("R")
            await until(pilot, lambda: len(logs_pane.model) == 2, "the START line from CloudWatch")
            assert logs_pane.model.record(0).message.startswith("START RequestId")
            assert logs_pane.model.record(0).timestamp == int(older)
            await pilot.press("colon", *"pattern keep", "enter")
            await until(pilot, lambda: "at the source: keep" in screen_text(app), "the title to say so")
            assert mailbox.narrow == ev.Narrow("keep")
    finally:
        await session.aclose()


def test_the_pipe_keeps_a_history_block_whole_and_marked() -> None:
    import io

    from warroom.aws import tail_worker

    out = io.BytesIO()
    post = tail_worker.PipePost(out)
    block = [rec(ts, f"line {ts}") for ts in range(tail_worker.CHUNK + 5)]
    post(ev.Records("log tail", block, history=True))
    post(ev.Records("log tail", block[:3]))
    post(ev.Found("log tail", 4, block[:2], ""))
    out.seek(0)
    got = [tail_worker.receive(tail_worker.read_frame(out), "log tail") for _ in range(3)]
    assert isinstance(got[0], ev.Records) and got[0].history and len(got[0].records) == len(block)
    assert isinstance(got[1], ev.Records) and not got[1].history
    assert isinstance(got[2], ev.Found) and [r.message for r in got[2].records] == ["line 0", "line 1"]


def test_lines_that_match_alike_share_their_matches() -> None:
    from warroom.aws import tail_worker
    from warroom.playbook.matcher import Match

    timeout = Match("lambda-timeout", "Lambda timeout", 37, 70, {"timeout": "30.03"}, 80)
    other = Match("lambda-timeout", "Lambda timeout", 37, 70, {"timeout": "15.00"}, 80)
    rows = tail_worker.encode([Record("logs", GROUP, "s", ts, str(ts), f"{ts} Task timed out", matches=[m])
                               for ts, m in ((1, timeout), (2, timeout), (3, other))])
    first, second, third = tail_worker.decode(rows)
    assert first.matches == (timeout,) and first.matches is second.matches
    assert third.matches == (other,) and third.matches is not first.matches
