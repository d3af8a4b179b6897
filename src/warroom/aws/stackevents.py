"""CloudFormation stack events as records: a failed deploy's reasons, matched like log lines."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from warroom.aws.gather import gather_records
from warroom.aws.session import AwsSession
from warroom.incident.records import Record
from warroom.playbook.matcher import Matcher

MAX_EVENTS_PER_STACK = 500  # DescribeStackEvents pages back in time; stop somewhere
CONCURRENCY = 4             # stacks read at once (CloudFormation's describe quotas are low)


def _ms(value: Any) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return int(value.timestamp() * 1000)
    return 0


def event_record(stack: str, event: dict[str, Any], matcher: Matcher | None = None) -> Record:
    """One stack event; its ResourceStatusReason is the message (the status when it has none)."""
    reason = str(event.get("ResourceStatusReason") or "").strip()
    message = reason or str(event.get("ResourceStatus") or "")
    record = Record(source="cloudformation", group=stack,
                    stream=str(event.get("LogicalResourceId") or stack),
                    timestamp=_ms(event.get("Timestamp")), event_id=str(event.get("EventId") or ""),
                    message=message)
    if matcher is not None and message:
        record.matches = matcher.match(message, stack)
    return record


async def stack_events(session: AwsSession, stack: str, since_ms: int = 0,
                       matcher: Matcher | None = None,
                       limit: int = MAX_EVENTS_PER_STACK) -> list[Record]:
    """Events of `stack` at or after `since_ms`, oldest first."""
    client = await session.client("cloudformation")
    out: list[Record] = []
    # Newest first from the API: stop paging once past the window.
    async for page in client.get_paginator("describe_stack_events").paginate(StackName=stack):
        events = page.get("StackEvents", [])
        for event in events:
            record = event_record(stack, event, matcher)
            if record.timestamp < since_ms:
                return sorted(out, key=lambda r: r.timestamp)
            out.append(record)
            if len(out) >= limit:
                return sorted(out, key=lambda r: r.timestamp)
    return sorted(out, key=lambda r: r.timestamp)


async def stacks_events(session: AwsSession, stacks: Sequence[str], since_ms: int = 0,
                        matcher: Matcher | None = None) -> tuple[list[Record], list[str]]:
    """Events of several stacks concurrently; a stack that fails is a warning."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(stack: str) -> list[Record]:
        async with gate:
            return await stack_events(session, stack, since_ms, matcher)

    return await gather_records([(f"cloudformation: events of {s}", one(s)) for s in stacks],
                                session.options)
