"""A fixed, seeded incident for snapshot tests, screenshots and the UI bench.

Everything is deterministic for a given seed: resources, records (timestamps from a fixed
base), findings and the store's clock, so the screen renders identically on every run.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from warroom.incident.records import Finding, Record, Resource
from warroom.incident.store import IncidentStore
from warroom.playbook.catalog import Catalog
from warroom.playbook.matcher import Matcher

BASE_MS = 1_714_558_500_000          # 2024-05-01 10:15:00 UTC
CLOCK = BASE_MS / 1000 + 150          # "now" for the store: 10:17:30

FUNCTIONS = ("bos-dev-agent-persona", "bos-dev-api-handler", "kiro-worker-test-poller",
             "bos-dev-websocket-handler")
RESOURCES = (
    *(Resource("function", f, service="lambda", log_group=f"/aws/lambda/{f}",
               attributes={"Timeout": 30, "MemorySize": 512}) for f in FUNCTIONS),
    Resource("api", "bos-dev-http-api", service="apigateway",
             log_group="/aws/apigateway/bos-dev-http-api"),
    Resource("table", "kiro-worker-test-locks", service="dynamodb"),
    Resource("table", "bos-dev-sessions", service="dynamodb"),
    Resource("project", "kiro-worker-test", service="codebuild",
             log_group="/aws/codebuild/kiro-worker-test"),
    Resource("stack", "KiroWorkerCore", service="cloudformation"),
    Resource("secret", "kiro-worker-test-github-token", service="secretsmanager"),
    Resource("alarm", "kiro-worker-test-poller-errors", service="cloudwatch",
             attributes={"StateValue": "ALARM"}),
)

_BACKGROUND = (
    "START RequestId: {rid} Version: $LATEST",
    "END RequestId: {rid}",
    "REPORT RequestId: {rid} Duration: {ms}.{n:02d} ms Billed Duration: {ms} ms Memory Size: 512 MB "
    "Max Memory Used: {mem} MB",
    '{{"level":"info","msg":"handled request","path":"/v1/personas/{n}","status":200}}',
    "INFO polling GitHub project board: {n} items in Ready",
)
_INCIDENTS = (
    ("/aws/lambda/bos-dev-agent-persona", "{ts} {rid} Task timed out after 30.03 seconds"),
    ("/aws/lambda/kiro-worker-test-poller",
     "ConditionalCheckFailedException: The conditional request failed (lock held by build {n})"),
    ("/aws/lambda/bos-dev-api-handler",
     "An error occurred (ThrottlingException) when calling the PutItem operation: Rate exceeded"),
    ("/aws/lambda/kiro-worker-test-poller",
     "ResourceNotFoundException: Secrets Manager can't find the specified secret."),
)
# Hostile lines: escape sequences, markup and a secret must all show literally and masked.
HOSTILE = (
    "\x1b[2J\x1b[31mred alert\x1b[0m \x1b]8;;http://evil.example\x07click\x1b]8;;\x07 "
    "[bold]not bold[/bold] [link=http://evil.example]not a link[/link] key AKIAIOSFODNN7EXAMPLE"
)


def records(matcher: Matcher, seed: int = 7, count: int = 400) -> Iterator[Record]:
    """`count` records, one every 300 ms from BASE_MS, with incidents mixed in."""
    rng = random.Random(seed)
    groups = [r.log_group for r in RESOURCES if r.log_group]
    for i in range(count):
        ts = BASE_MS + i * 300
        rid = "%08x-%04x-4%03x-%04x-%012x" % (rng.getrandbits(32), rng.getrandbits(16),
                                             rng.getrandbits(12), rng.getrandbits(16),
                                             rng.getrandbits(48))
        if i == count // 2:
            group, message = "/aws/lambda/bos-dev-api-handler", HOSTILE
        elif rng.random() < 0.12:
            group, template = rng.choice(_INCIDENTS)
            message = template.format(ts="2024-05-01T10:15:32.123Z", rid=rid, n=rng.randint(1, 99))
        else:
            group = rng.choice(groups)
            message = rng.choice(_BACKGROUND).format(rid=rid, n=rng.randint(0, 99),
                                                     ms=rng.randint(40, 900), mem=rng.randint(60, 200))
        stream = "2024/05/01/[$LATEST]%032x" % rng.getrandbits(128)
        yield Record("logs", group, stream, ts, f"{seed}-{i}", message,
                     matches=matcher.match(message, group))


def check_findings() -> list[Finding]:
    """What a health check would add: a probe and an alarm."""
    return [
        Finding("secret-value-empty", "kiro-worker-test-github-token", "secret",
                "secret kiro-worker-test-github-token has no value", BASE_MS + 60_000, "probe"),
        Finding("alarm-not-triggering", "kiro-worker-test-poller-errors", "alarm",
                "alarm kiro-worker-test-poller-errors has no actions", BASE_MS + 30_000, "probe"),
    ]


def store(catalog: Catalog, seed: int = 7, count: int = 400, capacity: int = 100_000) -> IncidentStore:
    """A store holding the sample incident, records still queued (the UI drains them)."""
    s = IncidentStore(catalog, capacity=capacity, clock=lambda: CLOCK)
    s.set_resources(RESOURCES)
    s.set_check_findings(check_findings())
    s.push(records(Matcher(catalog), seed, count))
    s.stats.connection = "ok"
    return s
