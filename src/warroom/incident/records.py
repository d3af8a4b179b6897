"""What sources produce: records (lines of evidence) and findings (recognised problems)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from warroom.playbook.matcher import Match


@dataclass(slots=True)
class Record:
    """One line of evidence: a log event, a stack event, a build log line."""

    source: str        # "logs", "cloudformation", "codebuild"
    group: str         # log group, stack name or build project
    stream: str        # log stream, resource logical id or build id
    timestamp: int     # ms since the epoch
    event_id: str      # unique within the source; the de-duplication key
    message: str
    ingestion_time: int | None = None
    matches: list[Match] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"group": self.group, "stream": self.stream, "timestamp": self.timestamp,
                "eventId": self.event_id, "message": self.message,
                "matches": [m.to_json() for m in self.matches]}


@dataclass(frozen=True, slots=True)
class Finding:
    """A playbook's symptom seen on a resource: from a log line, a metric, a probe or an alarm."""

    playbook: str
    resource: str                  # the resource's name (function, table, secret, ...)
    resource_kind: str             # one of playbook.model.RESOURCE_KINDS, or "" when unknown
    evidence: str                  # a line, a metric value, a probe's observation
    time: int                      # ms since the epoch
    kind: str                      # "log", "metric", "probe" or "alarm"
    captures: dict[str, str] = field(default_factory=dict)
    region: str = ""               # where the resource is; "" when not known

    def to_json(self) -> dict[str, Any]:
        return {"playbook": self.playbook, "resource": self.resource,
                "resource_kind": self.resource_kind, "region": self.region, "evidence": self.evidence,
                "time": self.time, "kind": self.kind, "captures": dict(self.captures)}


@dataclass(frozen=True, slots=True)
class Resource:
    """A discovered AWS resource, as the console's resource tree and `check` show it."""

    kind: str                      # one of playbook.model.RESOURCE_KINDS
    name: str                      # function name, table name, API name, ...
    arn: str = ""
    service: str = ""              # lambda, dynamodb, apigateway, codebuild, ...
    log_group: str | None = None   # where its logs are, if it has any
    attributes: dict[str, Any] = field(default_factory=dict)  # e.g. Timeout, MemorySize, State
    region: str = ""               # where it is; "" when not known

    def __post_init__(self) -> None:
        # Only what is known: an attribute the API did not return is absent, not None.
        if any(v is None for v in self.attributes.values()):
            object.__setattr__(self, "attributes",
                               {k: v for k, v in self.attributes.items() if v is not None})

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "arn": self.arn, "service": self.service,
                "region": self.region, "log_group": self.log_group, "attributes": dict(self.attributes)}
