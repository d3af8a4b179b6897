"""What sources produce: records (lines of evidence) and findings (recognised problems)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from sys import intern
from typing import Any

from warroom.playbook.matcher import Match


class Record:
    """One line of evidence: a log event, a stack event, a build log line.

    The console holds 100,000 of them, so they are kept small: group, stream and source
    are interned (a few names for many lines), a line with no symptom shares one empty
    `matches`, and an event id of digits (CloudWatch's are 56 of them) is kept as an int.
    """

    __slots__ = ("source", "group", "stream", "timestamp", "_event_id", "message",
                 "ingestion_time", "matches")

    source: str        # "logs", "cloudformation", "codebuild"
    group: str         # log group, stack name or build project
    stream: str        # log stream, resource logical id or build id
    timestamp: int     # ms since the epoch
    message: str
    ingestion_time: int | None
    matches: Sequence[Match]

    def __init__(self, source: str, group: str, stream: str, timestamp: int, event_id: str,
                 message: str, ingestion_time: int | None = None,
                 matches: Sequence[Match] | None = None) -> None:
        self.source = intern(source)
        self.group = intern(group)
        self.stream = intern(stream)
        self.timestamp = timestamp
        self.event_id = event_id
        self.message = message
        self.ingestion_time = ingestion_time
        self.matches = matches or NO_MATCHES

    @property
    def event_id(self) -> str:
        """Unique within the source; the de-duplication key."""
        value = self._event_id
        return value if isinstance(value, str) else str(value)

    @event_id.setter
    def event_id(self, value: str) -> None:
        # Only where the digits come back exactly as they were (no leading zero, no sign).
        if len(value) < 200 and value.isascii() and value.isdigit() and value[0] != "0":
            self._event_id: str | int = int(value)
        else:
            self._event_id = value

    def _fields(self) -> tuple[object, ...]:
        return (self.source, self.group, self.stream, self.timestamp, self._event_id, self.message,
                self.ingestion_time, list(self.matches))

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Record)
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment] - mutable: sources set `matches` after building one

    def __repr__(self) -> str:
        return (f"Record(source={self.source!r}, group={self.group!r}, stream={self.stream!r}, "
                f"timestamp={self.timestamp!r}, event_id={self.event_id!r}, message={self.message!r}, "
                f"ingestion_time={self.ingestion_time!r}, matches={list(self.matches)!r})")

    def to_json(self) -> dict[str, Any]:
        return {"group": self.group, "stream": self.stream, "timestamp": self.timestamp,
                "eventId": self.event_id, "message": self.message,
                "matches": [m.to_json() for m in self.matches]}


NO_MATCHES: tuple[Match, ...] = ()  # what every line without a symptom shares


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
