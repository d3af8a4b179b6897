"""Credentials that expire mid-session (issue 9 item 4): `warroom tail` and the console's
tail child say so, wait for valid ones and go on from where they were: every event once,
no restart. Against moto's server, whose fault middleware answers ExpiredTokenException to
the tail's identity while another one (the writer's keys) keeps writing."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from typing import Any

import boto3
import pytest

from tests.test_livetail import Writer, assert_exactly_once, collect, identity, make_groups, options, plan
from warroom.aws.credentials import CredentialState
from warroom.aws.logtail import LogTail
from warroom.aws.session import AwsOptions, AwsSession
from warroom.demo.server import MotoServer
from warroom.incident.records import Record
from warroom.incident.source_events import Inbox
from warroom.incident.store import IncidentStore
from warroom.tui.feeds import tail_feed

WRITER = "writer-key"  # the identity that writes the logs: its credentials do not expire
BOUND = 60.0           # s: a bound against hanging, not a speed check


def writer_logs(moto: MotoServer) -> Any:
    return boto3.client("logs", endpoint_url=moto.endpoint, region_name="us-east-1",
                        aws_access_key_id=WRITER, aws_secret_access_key=WRITER)


@pytest.mark.parametrize("live_tail", [True, False], ids=["live-tail", "polling"])
async def test_the_tail_waits_out_an_expiry_and_delivers_every_event_once(moto: MotoServer,
                                                                           live_tail: bool) -> None:
    moto.live_tail(update_seconds=0.2)
    logs = writer_logs(moto)
    groups = ["/x/a", "/x/b"]
    make_groups(logs, groups)
    tail = LogTail(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1"), ["/x/"], None,
                   options(live_tail=live_tail))
    tail.credentials.every = 0.05
    states: list[CredentialState] = []
    expired = threading.Event()

    def heard(state: CredentialState) -> None:
        states.append(state)
        if state.expired:
            expired.set()

    tail.credentials.listen(heard)

    def between(index: int) -> None:
        if index == 4:  # some written and read: the tail's credentials expire
            moto.faults(expired=True, spared=[WRITER])
            moto.live_tail(drop=True)  # its sessions must start again, with the expired ones
            assert expired.wait(BOUND), "the tail never noticed the expiry"
        if index == 12:  # written while they were expired: renewed
            moto.faults()

    writer = Writer(logs, plan(groups, 20, 3), between)
    started = False

    def done(records: list[Record]) -> bool:
        nonlocal started
        stats = tail.stats()
        if not started and (stats.live_sessions if live_tail else stats.mode == "poll"):
            started = True
            writer.start()
        return writer.done.is_set() and len(records) >= sum(writer.written.values()) \
            and not tail.stats().backfilling

    try:
        async with tail:
            records = await collect(tail, done, timeout=BOUND)
    finally:
        moto.faults()
    assert_exactly_once(records, writer.written)
    assert states[0].expired and "ExpiredTokenException" in states[0].line
    assert not states[-1].expired and states[-1].line.startswith("AWS credentials renewed at")


async def test_the_console_tail_child_shows_the_expiry_and_resumes(moto: MotoServer) -> None:
    logs = writer_logs(moto)
    group = "/aws/lambda/night-shift"
    make_groups(logs, [group])
    store = IncidentStore()
    session = AwsSession(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1"))
    written: Counter[tuple[str, str, int, str]] = Counter()

    def write(tag: str) -> None:
        now = int(time.time() * 1000)
        events = [{"timestamp": now + i, "message": f"{tag} {i}"} for i in range(3)]
        logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)
        written.update((group, "s", e["timestamp"], e["message"]) for e in events)

    inbox = Inbox()

    async def until(condition: Any, what: str) -> None:
        deadline = time.monotonic() + BOUND
        while not condition():
            assert time.monotonic() < deadline, what
            await asyncio.sleep(0.05)
            for event in inbox.take():  # as the console's drain does
                store.apply(event)

    def received() -> Counter[tuple[str, str, int, str]]:
        return Counter(identity(r) for r in store.pending)

    task = asyncio.create_task(tail_feed(inbox.post, session, None, [group], int(time.time() * 1000) - 60_000))
    try:
        write("before")
        await until(lambda: received() == written, "nothing before the expiry arrived")
        moto.faults(expired=True, spared=[WRITER])
        moto.live_tail(drop=True)
        await until(lambda: store.stats.connection == "failing", "the expiry was not shown")
        assert store.stats.message.startswith("AWS credentials expired at")
        assert "ExpiredTokenException" in store.stats.message
        write("during")
        moto.faults()
        await until(lambda: store.stats.connection in ("recovered", "ok"), "the renewal was not shown")
        write("after")
        await until(lambda: sum(received().values()) >= sum(written.values()), "events were lost")
    finally:
        moto.faults()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await session.aclose()
    assert_exactly_once(list(store.pending), written)


def test_warroom_tail_says_the_expiry_with_its_remedy_and_the_renewal(capsys: pytest.CaptureFixture[str]) -> None:
    from warroom.tail import _say_credentials

    hint = "run `aws sso login --profile night`"
    for state in [CredentialState(True, time.time(), "ExpiredTokenException", hint),
                  CredentialState(True, time.time(), "ExpiredTokenException", hint, attempts=1),
                  CredentialState(recovered_at=time.time())]:
        _say_credentials(state)
    said = capsys.readouterr().err.splitlines()
    assert len(said) == 2, said  # not once per re-read that still failed
    assert said[0].startswith("warroom: AWS credentials expired at") and hint in said[0]
    assert said[1].startswith("warroom: AWS credentials renewed at")


async def test_a_tail_that_falls_behind_is_shown_stalled_not_healthy(moto: MotoServer) -> None:
    """Live Tail sessions heard from less often than the tail allows (the server's updates
    come every 2 s; the tail stalls after 1 s): the source is stalled, with how far behind."""
    from warroom.aws.tail_worker import follow

    moto.live_tail(update_seconds=2.0)
    group = "/x/behind"
    make_groups(writer_logs(moto), [group])
    store = IncidentStore()
    inbox = Inbox()
    seen: set[str] = set()
    task = asyncio.create_task(follow(inbox.post, AwsOptions(endpoint_url=moto.endpoint, region="us-east-1"),
                                      None, [group], stats_every=0.1, stall_after=1.0))
    try:
        deadline = time.monotonic() + BOUND
        while "stalled" not in seen or store.stats.connection == "stalled":
            assert time.monotonic() < deadline, f"never stalled and back: {seen}"
            for event in inbox.take():  # as the console's drain does
                store.apply(event)
                seen.add(store.stats.connection)
                if store.stats.connection == "stalled":
                    assert store.stats.message.startswith("log tail ") and " s behind" in store.stats.message
            await asyncio.sleep(0.02)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        moto.live_tail(drop=True, update_seconds=1.0)
    assert store.stats.connection == "recovered"
