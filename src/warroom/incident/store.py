"""The incident store: a bounded ring of records, symptom counts and aggregated findings.

Sources never write here: they post events (`source_events`) into an inbox that the front
end drains on its UI thread and hands to `apply`, so the store has one writer. Records wait
in `pending` until `drain` moves them into the ring in batches, so a burst costs one update.
Everything here is plain Python: the console, the bench and the tests share it.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from warroom.incident import source_events as ev
from warroom.incident.attribution import named_resource, record_captures
from warroom.incident.records import Finding, Record, Resource
from warroom.incident.ring import Ring
from warroom.playbook.model import SEVERITIES, Playbook

DEFAULT_CAPACITY = 100_000
SERIES_MINUTES = 30  # length of each errors-per-minute series

Clock = Callable[[], float]


@dataclass
class ActiveFinding:
    """One playbook seen on one resource, with how often and when last."""

    playbook: str
    resource: str
    resource_kind: str
    kind: str
    first: int                     # ms since the epoch
    last: int
    count: int = 1
    evidence: str = ""
    captures: dict[str, str] = field(default_factory=dict)
    group: str = ""                # the log group of the latest evidence, if any
    # A log finding made before its group's owner was known (the first check round had not
    # read the resources): its latest record, to attribute it again once they are read.
    unowned: Record | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.playbook, self.resource)


# From worst to best: the state the status bar shows first when sources disagree.
SEVERITY_OF_STATE = ("failing", "stalled", "starting", "connecting", "recovered", "ok")
RECOVERED_FOR = 10.0  # s a source is shown as recovered before it is simply ok


@dataclass
class SourceState:
    """What one source last said about itself."""

    name: str
    connection: str = "connecting"  # one of SEVERITY_OF_STATE
    message: str = ""
    changed_at: float = 0.0
    errors: int = 0
    throttled: int = 0
    status: ev.TailStatus | None = None
    sampled: ev.Sampled | None = None

    @property
    def reads(self) -> str:
        """How the source reads, for the status bar ("" for sources that are not tails)."""
        return self.status.text(self.sampled) if self.status is not None else ""


@dataclass
class SourceStats:
    """Every source's state in one, as the status bar shows it (`IncidentStore.sources` has each)."""

    throttled: int = 0
    errors: int = 0
    source_dropped: int = 0        # events a source had to give up on (should stay 0)
    connection: str = "connecting"  # "connecting", "ok", "failing", "stalled", "recovered"
    message: str = ""              # the last failure, in plain words
    changed_at: float = 0.0
    logs: str = ""                 # how the log tail reads: Live Tail, sampled, FilterLogEvents share
    failing: str = ""              # the source whose state `connection` shows, when not ok


class IncidentStore:
    """Records, per-resource health and findings for one console session."""

    def __init__(self, playbooks: Iterable[Playbook] = (), capacity: int = DEFAULT_CAPACITY,
                 clock: Clock = time.time) -> None:
        self.ring = Ring(capacity)
        self.pending: deque[Record] = deque()
        self.clock = clock
        self.playbooks: dict[str, Playbook] = {p.id: p for p in playbooks}
        self.resources: list[Resource] = []
        self.group_resource: dict[str, Resource] = {}
        self.aliases: dict[str, str] = {}                # log group name -> its resource's name
        self.symptoms: Counter[str] = Counter()          # by log group
        self.lines: Counter[str] = Counter()             # by log group
        self.series: dict[str, dict[int, int]] = {}      # group -> minute -> symptom lines
        self.findings: dict[tuple[str, str], ActiveFinding] = {}
        self.alarms: dict[str, str] = {}                 # alarm name -> state
        self.stats = SourceStats()
        self.sources: dict[str, SourceState] = {}
        self.address = ""            # where the last Ready source serves (the demo's account)
        self.received = 0            # records drained into the ring, ever
        self.reordered = 0           # bumps when a history block moved records: views rebuild
        self.version = 0             # bumps when findings or resources change
        self.warnings: list[str] = []
        self._rate_mark = (clock(), 0)
        self.rate = 0.0              # events/s over the last rate window

    # -- sources ----------------------------------------------------------------------

    def push(self, records: Iterable[Record]) -> None:
        """Queue records from a source; cheap, no work done until `drain`."""
        self.pending.extend(records)

    def drain(self, limit: int | None = None) -> list[int]:
        """Move queued records into the ring; returns their sequence numbers."""
        pending = self.pending
        n = len(pending) if limit is None else min(limit, len(pending))
        return [self._take(pending.popleft()) for _ in range(n)]

    def _take(self, record: Record) -> int:
        """Into the ring, counted, its symptom found: a record seen for the first time."""
        seq = self.ring.append(record)
        self.lines[record.group] += 1
        self.received += 1
        if record.matches:
            self._symptom(record)
        return seq

    def insert_history(self, records: Sequence[Record]) -> None:
        """A block of older records in time order (a tail's `--since` backfill) goes where its
        times put it: before the records that came meanwhile and are newer, which move after
        it. Done once a tail is caught up; views rebuild (`reordered`)."""
        self.drain()  # what came before it is in the ring first
        if not records:
            return
        oldest = records[0].timestamp
        ring = self.ring
        later = 0
        for seq in reversed(ring.seqs()):
            if ring[seq].timestamp <= oldest or later >= ring.capacity // 2:
                break
            later += 1
        moved = ring.pop_newest(later)
        fresh = {id(r) for r in records}
        for record in sorted([*moved, *records], key=lambda r: r.timestamp):  # stable: ties keep order
            if id(record) in fresh:
                self._take(record)
            else:
                ring.append(record)  # counted and matched when it first came
        self.reordered += 1

    def resource(self, name: str, kind: str) -> Resource | None:
        """The discovered resource of that name and kind, if any."""
        return next((r for r in self.resources if r.name == name and r.kind == kind), None)

    def set_resources(self, resources: Iterable[Resource]) -> None:
        self.resources = list(resources)
        # A function's log group belongs to the function, not to a bare log-group entry.
        self.group_resource = {r.log_group: r for r in self.resources
                               if r.log_group and r.kind == "log_group"}
        self.group_resource.update({r.log_group: r for r in self.resources
                                    if r.log_group and r.kind != "log_group"})
        # An API and its access-log group (`/aws/apigateway/NAME`), or a function and a bare
        # log-group entry for its logs, are one resource: one finding, not one per name.
        named = {r.name: r for r in self.resources if r.kind != "log_group"}
        for group, owner in list(self.group_resource.items()):
            if owner.kind == "log_group":
                self.group_resource[group] = named.get(short_group(group), owner)
        self.aliases = {group: r.name for group, r in self.group_resource.items()
                        if r.kind != "log_group" and group != r.name}
        for r in self.resources:
            if r.kind in ("stack", "project"):
                self.group_resource.setdefault(r.name, r)
            if r.kind == "alarm":
                self.alarms[r.name] = str(r.attributes.get("StateValue", r.attributes.get("state", "")))
        self._reattribute()
        self.version += 1

    def add_findings(self, findings: Iterable[Finding]) -> None:
        """Findings from probes, metrics and alarms (log findings come from records)."""
        for f in findings:
            self._finding(f.playbook, f.resource, f.resource_kind, f.kind, f.time, f.evidence,
                          dict(f.captures), "")

    def set_check_findings(self, findings: Iterable[Finding]) -> None:
        """The latest periodic check's probe, metric and alarm findings replace the previous ones.

        Log findings are skipped: they arrive as records and are counted from those.
        """
        latest = {(f.playbook, self.aliases.get(f.resource, f.resource)): f
                  for f in findings if f.kind != "log"}
        for key, current in list(self.findings.items()):
            if current.kind != "log" and key not in latest:
                del self.findings[key]
        for key, f in latest.items():
            current = self.findings.get(key)
            if current is None:
                self.findings[key] = ActiveFinding(f.playbook, key[1], f.resource_kind, f.kind,
                                                   f.time, f.time, 1, f.evidence, dict(f.captures))
            else:
                current.last = max(current.last, f.time)
                current.evidence = f.evidence if current.kind != "log" else current.evidence
                current.captures = {**f.captures, **current.captures}
        self.version += 1

    # -- derived ----------------------------------------------------------------------

    def resource_of(self, record: Record) -> str:
        """The resource name a record belongs to (function name for Lambda groups)."""
        res = self.group_resource.get(record.group)
        if res is not None:
            return res.name
        return short_group(record.group)

    def _symptom(self, record: Record) -> None:
        group = record.group
        self.symptoms[group] += 1
        minute = record.timestamp // 60_000
        series = self.series.setdefault(group, {})
        series[minute] = series.get(minute, 0) + 1
        if len(series) > SERIES_MINUTES * 2:
            for old in sorted(series)[:-SERIES_MINUTES]:
                del series[old]
        resource, kind, captures, owned = self._attribution(record)
        self._finding(record.matches[0].playbook, resource, kind, "log", record.timestamp, record.message,
                      captures, group, None if owned else record)

    def _attribution(self, record: Record) -> tuple[str, str, dict[str, str], bool]:
        """(resource, kind, captures) of a symptom record, and whether its resource is known
        rather than guessed from the group's name."""
        playbook = self.playbooks.get(record.matches[0].playbook)
        owner = self.group_resource.get(record.group)  # fills what the line did not name
        captures = record_captures(playbook, record, owner)
        named = named_resource(playbook, captures, owner) if playbook else None
        if named:
            return named[0], named[1], captures, True
        if owner is not None:
            return owner.name, owner.kind, captures, True
        group = record.group
        return (short_group(group), "function" if group.startswith("/aws/lambda/") else "log_group",
                captures, False)

    def _reattribute(self) -> None:
        """Log findings made before their groups' owners were known go to those owners now:
        an API's access-log lines to the function behind the route, not to a second entry."""
        for key, guessed in list(self.findings.items()):
            record = guessed.unowned
            if record is None or record.group not in self.group_resource:
                continue
            del self.findings[key]
            resource, kind, captures, _ = self._attribution(record)
            resource = self.aliases.get(resource, resource)
            current = self.findings.get((guessed.playbook, resource))
            if current is None:
                self.findings[(guessed.playbook, resource)] = replace(
                    guessed, resource=resource, resource_kind=kind, captures=captures, unowned=None)
                continue
            current.count += guessed.count
            current.first = min(current.first, guessed.first)
            if guessed.last > current.last:
                current.last, current.evidence, current.group = guessed.last, guessed.evidence, guessed.group
            current.captures = {**captures, **current.captures}

    def _finding(self, playbook: str, resource: str, kind: str, source: str, when: int,
                 evidence: str, captures: dict[str, str], group: str, unowned: Record | None = None) -> None:
        resource = self.aliases.get(resource, resource)
        key = (playbook, resource)
        current = self.findings.get(key)
        if current is None:
            self.findings[key] = ActiveFinding(playbook, resource, kind, source, when, when, 1,
                                               evidence, captures, group, unowned)
        else:
            current.count += 1
            current.first = min(current.first, when)
            if when >= current.last:
                current.last = when
                current.evidence = evidence
                current.captures = {**current.captures, **captures}
                current.group = group or current.group
                current.unowned = unowned or current.unowned
        self.version += 1

    def severity(self, finding: ActiveFinding) -> str:
        playbook = self.playbooks.get(finding.playbook)
        return playbook.severity if playbook is not None else ""

    def active_findings(self) -> list[ActiveFinding]:
        """Most severe first, then the one seen first: the order a responder works through them."""
        rank = {s: i for i, s in enumerate(SEVERITIES)}
        return sorted(self.findings.values(), key=lambda f: (
            rank.get(self.severity(f), len(rank)), f.first, f.playbook, f.resource))

    def errors_per_minute(self, group: str | None, minutes: int = 15,
                          now_ms: int | None = None) -> list[int]:
        """Symptom lines per minute for one group (or all of them), oldest first."""
        now = (now_ms if now_ms is not None else int(self.clock() * 1000)) // 60_000
        groups = [group] if group is not None else list(self.series)
        out = [0] * minutes
        for g in groups:
            for minute, count in self.series.get(g, {}).items():
                i = minutes - 1 - (now - minute)
                if 0 <= i < minutes:
                    out[i] += count
        return out

    def tick(self) -> float:
        """Update the events/s figure, and a source recovered a while ago is simply ok again
        (a check says something once a minute); call about once a second."""
        now = self.clock()
        settled = [s for s in self.sources.values()
                   if s.connection == "recovered" and now - s.changed_at > RECOVERED_FOR]
        for source in settled:
            source.connection = "ok"
        if settled:
            self._summarise()
        then, count = self._rate_mark
        if now > then:
            self.rate = (self.received - count) / (now - then)
        self._rate_mark = (now, self.received)
        return self.rate

    @property
    def dropped(self) -> int:
        return self.ring.dropped

    # -- what the sources say (the one writer: the UI thread's drain) -----------------

    def apply(self, event: ev.SourceEvent) -> None:
        """Apply one source event; only the front end's drain calls this."""
        source = self.sources.get(event.source)
        if source is None:
            source = self.sources[event.source] = SourceState(event.source, changed_at=self.clock())
        if isinstance(event, ev.Records):
            if event.history:
                self.insert_history(event.records)
            else:
                self.push(event.records)
            if not event.records:
                return
            self._state(event.source, "ok")
        elif isinstance(event, ev.Ok):
            self._state(event.source, "ok")
        elif isinstance(event, ev.Failed):
            source.errors += 1
            self._state(event.source, "failing", event.message)
        elif isinstance(event, ev.Stalled):
            self._state(event.source, "stalled", event.message)
        elif isinstance(event, ev.Starting):
            self._state(event.source, "starting", event.message)
        elif isinstance(event, ev.Ready):
            self.address = event.address or self.address
            self._state(event.source, "ok")
        elif isinstance(event, ev.Throttled):
            source.throttled = event.count
        elif isinstance(event, ev.Sampled):
            source.sampled = event
        elif isinstance(event, ev.TailStatus):
            source.status = event
        elif isinstance(event, ev.Discovered):
            self.set_resources(event.resources)
        elif isinstance(event, ev.CheckResult):
            self.set_resources(event.resources)
            self.set_check_findings(event.findings)
            self.warnings = list(event.warnings)
            self.push(event.records)
            self._state(event.source, "ok")
        self._summarise()

    def forget_source(self, name: str) -> None:
        """A source that was stopped (`:region`, `:scope`): its state no longer counts."""
        if self.sources.pop(name, None) is not None:
            self._summarise()

    def _state(self, name: str, connection: str, message: str = "") -> None:
        source = self.sources.get(name)
        if source is None:
            source = self.sources[name] = SourceState(name, changed_at=self.clock())
        now = self.clock()
        if connection == "ok":
            if source.connection in ("failing", "stalled"):
                source.connection, source.changed_at = "recovered", now
            elif source.connection in ("connecting", "starting"):
                source.connection, source.changed_at = "ok", now
            elif source.connection == "recovered" and now - source.changed_at > RECOVERED_FOR:
                source.connection = "ok"
            return
        if source.connection != connection or source.message != message:
            source.changed_at = now
        source.connection, source.message = connection, message

    def _summarise(self) -> None:
        """`stats` from every source: the worst state with its message, throttles summed."""
        if not self.sources:
            return
        rank = {state: i for i, state in enumerate(SEVERITY_OF_STATE)}
        worst = min(self.sources.values(), key=lambda s: rank.get(s.connection, 0))
        stats = self.stats
        if stats.connection != worst.connection:
            stats.changed_at = worst.changed_at
        stats.connection, stats.message, stats.failing = worst.connection, worst.message, worst.name
        stats.errors = sum(s.errors for s in self.sources.values())
        stats.throttled = sum(s.throttled for s in self.sources.values())
        reads = [(s.name, s.reads) for s in self.sources.values() if s.reads]
        stats.logs = reads[0][1] if len(reads) == 1 else " · ".join(f"{n}: {r}" for n, r in reads)


def short_group(group: str) -> str:
    """`/aws/lambda/bos-dev-agent-persona` -> `bos-dev-agent-persona`."""
    for prefix in ("/aws/lambda/", "/aws/codebuild/", "/aws/apigateway/"):
        if group.startswith(prefix):
            return group[len(prefix):]
    return group
