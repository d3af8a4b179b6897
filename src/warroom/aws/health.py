"""One health check of a stack: discovery, probes, metric symptoms, alarms and deploy records.

`Checker.run_once` is what `warroom check` prints and what the console calls periodically;
the checker keeps its compiled matcher and the metric fetcher's knowledge of the endpoint
between runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from warroom.aws.buildlogs import failed_build_logs
from warroom.aws.discovery import Inventory, discover
from warroom.aws.metrics import MetricFetcher, check_metrics, resource_captures
from warroom.aws.probes import ProbeContext, run_probes
from warroom.aws.scope import Scope
from warroom.aws.session import AwsOptions, AwsSession
from warroom.aws.stackevents import stacks_events
from warroom.incident.records import Finding, Record, Resource
from warroom.playbook.catalog import Catalog
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


def record_findings(records: Iterable[Record], catalog: Catalog, kind: str) -> list[Finding]:
    """A finding per matched record, for its most specific playbook."""
    out = []
    for record in records:
        if not record.matches:
            continue
        match = record.matches[0]
        captures = dict(match.captures)
        playbook = catalog.get(match.playbook)
        if playbook is not None:
            subject = Resource(kind, record.group)
            for name, value in resource_captures(playbook, subject).items():
                captures.setdefault(name, value)
        out.append(Finding(match.playbook, record.group, kind, record.message, record.timestamp,
                           "log", captures))
    return out


def _severity_rank(catalog: Catalog, finding: Finding) -> int:
    playbook = catalog.get(finding.playbook)
    severity = playbook.severity if playbook else "medium"
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


class Checker:
    """Runs every source once per `run_once` call over one long-lived session."""

    def __init__(self, session: AwsSession, catalog: Catalog, prefixes: Sequence[str] = (),
                 stack_events_window: int = STACK_EVENTS_WINDOW, scope: Scope | None = None) -> None:
        self.session = session
        self.catalog = catalog
        self.scope = scope or Scope(prefixes=tuple(prefixes))
        self.prefixes = self.scope.prefixes
        self.stack_events_window = stack_events_window
        self.matcher = Matcher(catalog)
        self.fetcher = MetricFetcher(session)

    async def run_once(self) -> CheckResult:
        inventory = await discover(self.session, scope=self.scope)
        now_ms = int(time.time() * 1000)
        ctx = ProbeContext(self.session, inventory, self.prefixes, self.fetcher, now_ms)
        (probe_findings, (metric_findings, metric_warnings), (stack_records, stack_warnings),
         (build_records, build_warnings)) = await asyncio.gather(
            run_probes(ctx, self.catalog),
            check_metrics(self.fetcher, self.catalog, inventory.resources),
            self._stack_events(inventory, now_ms),
            failed_build_logs(self.session, inventory.of_kind("project"), self.matcher),
        )
        matched = [r for r in (*stack_records, *build_records) if r.matches]
        findings = [*probe_findings, *metric_findings,
                    *record_findings((r for r in stack_records), self.catalog, "stack"),
                    *record_findings((r for r in build_records), self.catalog, "project")]
        warnings = [*inventory.warnings, *ctx.warnings, *metric_warnings, *stack_warnings, *build_warnings]
        return CheckResult(inventory.resources, self._order(findings), list(dict.fromkeys(warnings)),
                           matched)

    async def _stack_events(self, inventory: Inventory, now_ms: int) -> tuple[list[Record], list[str]]:
        names = [s.name for s in inventory.of_kind("stack")]
        since = now_ms - self.stack_events_window * 1000
        return await stacks_events(self.session, names, since, self.matcher)

    def _order(self, findings: list[Finding]) -> list[Finding]:
        unique = list({(f.playbook, f.resource, f.kind, f.evidence): f for f in findings}.values())
        return sorted(unique, key=lambda f: (_severity_rank(self.catalog, f), f.playbook, f.resource, f.time))
