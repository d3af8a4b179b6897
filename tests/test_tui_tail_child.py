"""The console's log tail in a child process: records arrive intact and no process is left."""

from __future__ import annotations

import asyncio
import os
import time

import boto3

from tests.demo_helpers import alive, children_of
from warroom.aws.session import AwsOptions, AwsSession
from warroom.aws.tail_worker import Recognise
from warroom.demo.server import MotoServer
from warroom.incident.source_events import Inbox
from warroom.incident.store import IncidentStore
from warroom.playbook.catalog import load_catalog
from warroom.tui.feeds import tail_feed

GROUP = "/aws/lambda/bos-dev-agent-persona"
HOSTILE = "\x1b[31m[bold]not bold[/bold]\x1b[0m key AKIAIOSFODNN7EXAMPLE"


async def test_child_tail_delivers_records_with_matches(moto: MotoServer) -> None:
    logs = boto3.client("logs", endpoint_url=moto.endpoint, region_name="us-east-1")
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="s1")
    now = int(time.time() * 1000)
    messages = ["START RequestId: 1 Version: $LATEST",
                "2024-05-01T10:15:32Z 1 Task timed out after 30.03 seconds", HOSTILE]
    logs.put_log_events(logGroupName=GROUP, logStreamName="s1", logEvents=[
        {"timestamp": now + i, "message": m} for i, m in enumerate(messages)])
    catalog = load_catalog()
    store = IncidentStore(catalog)
    session = AwsSession(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1"))
    before = children_of(os.getpid())
    inbox = Inbox()
    task = asyncio.create_task(tail_feed(inbox.post, session, Recognise(tuple(catalog)), [GROUP], now - 60_000))
    try:
        deadline = time.monotonic() + 60  # a bound against hanging, not a speed check
        while len(store.pending) < len(messages):
            assert time.monotonic() < deadline, "the tail child delivered nothing"
            await asyncio.sleep(0.1)
            for event in inbox.take():  # as the console's drain does
                store.apply(event)
        children = children_of(os.getpid()) - before
        assert children, "the tail ran in this process, not a child"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await session.aclose()
    records = list(store.pending)
    assert [r.message for r in records] == messages  # byte for byte, escapes included
    assert [m.playbook for m in records[1].matches][:1] == ["lambda-timeout"]
    assert records[1].matches[0].captures == {"timeout": "30.03"}
    assert not any(alive(pid) for pid in children)
