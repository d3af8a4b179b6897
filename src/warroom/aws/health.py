"""One health check of a stack: discovery, probes, metric symptoms, alarms and deploy records.

`Checker.run_once` is what `warroom check` prints and what the console calls periodically;
the checker keeps its compiled matcher and the metric fetcher's knowledge of the endpoint
between runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from warroom.aws.buildlogs import failed_build_logs
from warroom.aws.discovery import Inventory, discover
from warroom.aws.insights import MAX_GROUPS, MAX_ROWS, query_events, symptom_filter
from warroom.aws.metrics import MetricFetcher, check_metrics
from warroom.aws.probes import ProbeContext, bounded, run_probes
from warroom.aws.scope import Scope
from warroom.aws.pacing import Pacer
from warroom.aws.session import AwsOptions, AwsSession, denied_action, explain
from warroom.aws.stackevents import stacks_events
from warroom.incident.attribution import named_resource, record_captures
from warroom.incident.records import Finding, Record, Resource
from warroom.playbook.catalog import Catalog
from warroom.playbook.cache import catalog_matcher
from warroom.playbook.matcher import Matcher
from warroom.playbook.model import SEVERITIES

STACK_EVENTS_WINDOW = 24 * 3600   # seconds of stack events a check looks at
PREFLIGHT_ATTEMPTS = 2            # fail fast on a dead endpoint instead of backing off for long


@dataclass
class CheckResult:
    resources: list[Resource] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)   # deploy records that matched a playbook


async def preflight(options: AwsOptions) -> dict[str, str]:
    """Who we are (STS GetCallerIdentity), with few retries: UserError names the fix."""
    quick = dataclasses.replace(options, max_attempts=min(options.max_attempts, PREFLIGHT_ATTEMPTS))
    async with AwsSession(quick) as session:
        return await session.identity()


def record_findings(records: Iterable[Record], catalog: Catalog, kind: str,
                    owners: Mapping[str, Resource] | None = None) -> list[Finding]:
    """A finding per matched record, for its most specific playbook, attributed as the
    console attributes a log line (the record's group is the resource `owners` gives for
    it, else a stack or project of `kind`)."""
    out = []
    for record in records:
        if not record.matches:
            continue
        match = record.matches[0]
        playbook = catalog.get(match.playbook)
        owner = (owners or {}).get(record.group) or Resource(kind, record.group)
        captures = record_captures(playbook, record, owner)
        resource, resource_kind = (named_resource(playbook, captures, owner) if playbook else None) or (
            owner.name, owner.kind)
        out.append(Finding(match.playbook, resource, resource_kind, record.message, record.timestamp,
                           "log", captures))
    return out


def _severity_rank(catalog: Catalog, finding: Finding) -> int:
    playbook = catalog.get(finding.playbook)
    severity = playbook.severity if playbook else "medium"
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def ordered(catalog: Catalog, findings: Iterable[Finding]) -> list[Finding]:
    """One of each finding, most severe first, then by playbook, region, resource and time."""
    unique = {(f.playbook, f.region, f.resource, f.kind, f.evidence): f for f in findings}.values()
    return sorted(unique, key=lambda f: (_severity_rank(catalog, f), f.playbook, f.region, f.resource, f.time))


class Checker:
    """Runs every source once per `run_once` call over one long-lived session."""

    def __init__(self, session: AwsSession, catalog: Catalog, prefixes: Sequence[str] = (),
                 stack_events_window: int = STACK_EVENTS_WINDOW, scope: Scope | None = None,
                 matcher: Matcher | None = None) -> None:
        self.session = session
        self.catalog = catalog
        self.scope = scope or Scope(prefixes=tuple(prefixes))
        self.prefixes = self.scope.prefixes
        self.stack_events_window = stack_events_window
        self.matcher = matcher or catalog_matcher(catalog)  # regions' checkers share one
        self.fetcher = MetricFetcher(session)
        self._where: str | None = None  # the log query's filter, once built ("" for none)

    async def run_once(self, logs_since_ms: int | None = None,
                       discovered: Callable[[list[Resource]], None] | None = None) -> CheckResult:
        """One check; with `logs_since_ms`, also the symptoms in the scope's log groups since then
        (the console leaves that to its live tail). `discovered` hears the resources as soon as
        they are read, before the probes, metrics and logs (seconds, on a busy account)."""
        inventory = await discover(self.session, scope=self.scope)
        if discovered is not None:
            discovered(inventory.resources)
        now_ms = int(time.time() * 1000)
        ctx = ProbeContext(self.session, inventory, self.prefixes, self.fetcher, now_ms)
        (probe_findings, (metric_findings, metric_warnings), (stack_records, stack_warnings),
         (build_records, build_warnings), (log_records, log_warnings)) = await asyncio.gather(
            run_probes(ctx, self.catalog),
            check_metrics(self.fetcher, self.catalog, inventory.resources),
            self._stack_events(inventory, now_ms),
            failed_build_logs(self.session, inventory.of_kind("project"), self.matcher),
            self._log_symptoms(ctx, logs_since_ms, now_ms),
        )
        matched = [r for r in (*stack_records, *build_records, *log_records) if r.matches]
        owners = {r.log_group: r for r in inventory.resources if r.log_group}
        findings = [*probe_findings, *metric_findings,
                    *record_findings((r for r in stack_records), self.catalog, "stack"),
                    *record_findings((r for r in build_records), self.catalog, "project"),
                    *record_findings(log_records, self.catalog, "log_group", owners)]
        warnings = [*inventory.warnings, *ctx.warnings, *metric_warnings, *stack_warnings, *build_warnings,
                    *log_warnings]
        region = self.session.region or ""
        findings = [dataclasses.replace(f, region=region) for f in findings]
        return CheckResult(inventory.resources, ordered(self.catalog, findings), list(dict.fromkeys(warnings)),
                           matched)

    async def _log_symptoms(self, ctx: ProbeContext, since_ms: int | None,
                            now_ms: int) -> tuple[list[Record], list[str]]:
        """The lines of the scope's log groups in [since_ms, now_ms] that match a symptom: one
        Logs Insights query per 50 groups keeps the lines holding what some symptom needs
        (the matcher's required literals), the matcher confirms them."""
        groups = sorted({r.log_group for r in ctx.inventory.resources if r.log_group})
        if since_ms is None or not groups:
            return [], []
        # One group that does not exist (a function never invoked) fails a whole query.
        exists = await bounded(groups, ctx.log_group_exists)
        groups = [group for group, known in zip(groups, exists, strict=True) if known is not False]
        if not groups:
            return [], []
        if self._where is None:
            self._where = symptom_filter(self.matcher) or ""
        logs = await self.session.client("logs")
        pacer = Pacer()
        answers = await asyncio.gather(
            *(query_events(logs, pacer, groups[i:i + MAX_GROUPS], since_ms, now_ms,
                           self._where or None, attempts=PREFLIGHT_ATTEMPTS)
              for i in range(0, len(groups), MAX_GROUPS)), return_exceptions=True)
        records: list[Record] = []
        warnings: list[str] = []
        for answer in answers:
            if isinstance(answer, BaseException):
                if not isinstance(answer, Exception):
                    raise answer
                action = denied_action(answer, "logs")
                warnings.append(f"{action} denied: log symptoms are not read; the rest keeps working"
                                if action else f"log symptoms: {explain(answer, self.session.options)}")
                continue
            events, cut = answer
            if cut:
                warnings.append(f"log symptoms: more than {MAX_ROWS:,} candidate lines in a query; "
                                "the newest were not read (a shorter --since reads them)")
            lines = [Record("logs", e["logGroupName"], e["logStreamName"], e["timestamp"], "",
                            e["message"], e["ingestionTime"]) for e in events]
            found = self.matcher.match_many([r.message for r in lines], [r.group for r in lines])
            for record, matches in zip(lines, found, strict=True):
                if matches:
                    record.matches = matches
                    records.append(record)
        return records, warnings

    async def _stack_events(self, inventory: Inventory, now_ms: int) -> tuple[list[Record], list[str]]:
        names = [s.name for s in inventory.of_kind("stack")]
        since = now_ms - self.stack_events_window * 1000
        return await stacks_events(self.session, names, since, self.matcher)
