"""CodeBuild build logs as records: a failed build's `[Container]` lines, matched like log lines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from warroom.aws.gather import gather_records
from warroom.aws.session import AwsSession, error_code
from warroom.incident.records import Record, Resource
from warroom.playbook.matcher import Matcher

MAX_LINES_PER_BUILD = 2000
FAILED_STATUSES = ("FAILED", "FAULT", "TIMED_OUT", "STOPPED")


def build_log_location(project: Resource, build: dict[str, Any]) -> tuple[str, str]:
    """(log group, log stream) of a build: from the build, else CodeBuild's defaults."""
    group = build.get("logGroup") or project.log_group or f"/aws/codebuild/{project.name}"
    # CodeBuild names the stream after the build id's UUID part (`project:uuid`).
    stream = build.get("logStream") or str(build.get("id") or "").split(":", 1)[-1]
    return group, stream


async def build_log(session: AwsSession, project: Resource, build: dict[str, Any],
                    matcher: Matcher | None = None,
                    limit: int = MAX_LINES_PER_BUILD) -> list[Record]:
    """The lines of one build's log (the last `limit`), oldest first; none if it has no log."""
    client = await session.client("logs")
    group, stream = build_log_location(project, build)
    build_id = str(build.get("id") or stream)
    out: list[Record] = []
    params: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": False,
                              "limit": min(limit, 10000)}
    try:
        answer = await client.get_log_events(**params)
    except Exception as exc:  # noqa: BLE001
        if error_code(exc) == "ResourceNotFoundException":
            return []  # the build never started logging
        raise
    for i, event in enumerate(answer.get("events", [])):
        message = str(event.get("message", "")).rstrip("\n")
        record = Record(source="codebuild", group=project.name, stream=build_id,
                        timestamp=int(event.get("timestamp", 0)),
                        event_id=f"{build_id}/{event.get('timestamp', 0)}/{i}", message=message,
                        ingestion_time=event.get("ingestionTime"))
        if matcher is not None:
            record.matches = matcher.match(message, group)
        out.append(record)
    return out[-limit:]


async def failed_build_logs(session: AwsSession, projects: Sequence[Resource],
                            matcher: Matcher | None = None,
                            per_project: int = 1) -> tuple[list[Record], list[str]]:
    """Logs of each project's most recent failed builds (discovery lists recent builds)."""
    jobs = []
    for project in projects:
        failed = [b for b in project.attributes.get("builds", [])
                  if b.get("buildStatus") in FAILED_STATUSES][:per_project]
        jobs.extend((project, b) for b in failed)
    return await gather_records(
        [(f"codebuild: log of {b.get('id')}", build_log(session, p, b, matcher)) for p, b in jobs],
        session.options)
