"""Every finding the demo produces names its resource, and its guidance's diagnose runs.

The demo world is seeded and simulated for five minutes of fake time (as in
test_demo_scenarios.py); its findings are built the way the console builds them (the
health check's resources, findings and deploy records, then every log line matched and
drained into an IncidentStore), and each finding's diagnose steps run against the world
with the values the guidance pane would give them. With the demo console's catalog none
may lack a parameter; with the built-in one (a real account's), only those no line names.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from warroom.aws.health import Checker
from warroom.aws.session import AwsOptions, AwsSession
from warroom.demo import world as w
from warroom.demo.defaults import with_demo_defaults
from warroom.demo.server import MotoServer
from warroom.demo.simulator import Simulator
from warroom.incident.records import Record
from warroom.incident.store import ActiveFinding, IncidentStore
from warroom.playbook.catalog import Catalog, load_catalog
from warroom.playbook.matcher import Matcher
from warroom.runner.diagnose import params_for, run_diagnose

HORIZON = 300.0
STEP = 15.0


@pytest.fixture(scope="module")
def world() -> Iterator[MotoServer]:
    with MotoServer() as server:
        w.seed(server.endpoint)
        sim = Simulator(server.endpoint, seed=7, rate=5)
        t = sim.t0
        while t <= sim.t0 + HORIZON:
            sim.tick(t)
            t += STEP
        yield server


def _log_records(sim_client: Any, matcher: Matcher) -> list[Record]:
    logs = sim_client("logs")
    records = []
    for group in w.log_groups():
        for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group, interleaved=True):
            events = page["events"]
            found = matcher.match_many([e["message"] for e in events], [group] * len(events))
            for event, matches in zip(events, found, strict=True):
                records.append(Record("logs", group, event["logStreamName"], event["timestamp"],
                                      event["eventId"], event["message"], matches=matches))
    return records


_walked: dict[bool, list[ActiveFinding]] = {}  # the world does not change between tests


async def _findings(endpoint: str, demo_defaults: bool) -> tuple[AwsSession, Catalog, list[ActiveFinding]]:
    """The findings the console shows for the world, and a session to diagnose them with."""
    import boto3

    catalog = load_catalog([])
    if demo_defaults:
        catalog = with_demo_defaults(catalog)
    session = AwsSession(AwsOptions(endpoint_url=endpoint, region=w.REGION))
    if demo_defaults not in _walked:
        store = IncidentStore(catalog)
        result = await Checker(session, catalog).run_once()
        store.set_resources(result.resources)
        store.set_check_findings(result.findings)
        client = lambda service: boto3.client(service, endpoint_url=endpoint, region_name=w.REGION)  # noqa: E731
        store.push([*result.records, *_log_records(client, Matcher(catalog))])
        store.drain()
        _walked[demo_defaults] = store.active_findings()
    return session, catalog, _walked[demo_defaults]


# Parameters a real account's line does not carry (`GitHub API returns 401 Unauthorized`
# names no secret): the guidance says a step needs them (every one it lacks). The demo's
# own console offers its world's.
ASKED = {
    ("cfn-deployment-timeout", "stack"), ("codebuild-git-auth-failed", "secret"),
    ("codebuild-project-not-found", "stack"), ("codebuild-start-denied", "project"),
    ("codebuild-start-denied", "project_arn"), ("dynamodb-lock-held", "table"),
    ("dynamodb-lock-held", "lock_key"),
    ("dynamodb-throttling", "table"), ("git-credentials-invalid-json", "secret"),
    ("github-project-not-found", "parameter"), ("github-rate-limit", "secret"),
    ("github-token-invalid", "secret"), ("github-work-items-not-found", "parameter"),
    ("iam-access-denied", "policy_arn"), ("iam-access-denied", "policy_version"),
    ("iam-access-denied", "user_name"),
    ("kms-key-unavailable", "role"), ("lambda-code-size-exceeded", "function"),
    ("lambda-function-not-found", "stack"), ("python-module-not-found", "layer"),
    ("secret-not-found", "secret_prefix"), ("secret-not-found", "stack"),
    ("secret-value-empty", "secret"), ("terraform-state-lock", "lock_table"),
}


async def _missing(session: AwsSession, catalog: Catalog,
                   findings: list[ActiveFinding]) -> list[tuple[str, str, str]]:
    """(playbook, resource, parameter) for each diagnose step that lacks a value."""
    missing = []
    for f in findings:
        playbook = catalog.get(f.playbook)
        assert playbook is not None
        values = params_for(playbook, f.captures, f.resource, f.resource_kind)
        for step in await run_diagnose(session, playbook, values):
            missing.extend((f.playbook, f.resource, name) for name in step.needs)
    return missing


@pytest.mark.parametrize("demo_defaults", [True, False], ids=["demo-catalog", "plain-catalog"])
async def test_every_demo_finding_names_its_resource_and_diagnoses(world: MotoServer,
                                                                    demo_defaults: bool) -> None:
    session, catalog, findings = await _findings(world.endpoint, demo_defaults)
    try:
        assert len({f.playbook for f in findings}) >= 30  # the demo is mid-incident
        assert [f for f in findings if not f.resource or not f.resource_kind] == []
        # An API and its access-log group are one resource.
        assert [f.resource for f in findings if f.resource.startswith("/aws/apigateway/")] == []
        missing = await _missing(session, catalog, findings)
        if demo_defaults:
            assert missing == []
        else:
            assert {(pid, name) for pid, _, name in missing} <= ASKED
    finally:
        await session.aclose()


async def test_findings_name_what_their_line_names(world: MotoServer) -> None:
    """The cases of issue 9: each finding is about the resource its line is about."""
    session, _, findings = await _findings(world.endpoint, demo_defaults=False)
    await session.aclose()
    by = {(f.playbook, f.resource): f for f in findings}
    # An access-log line's out-of-memory is the integration function's, not the API's.
    assert [r for p, r in by if p == "lambda-out-of-memory"] == [w.API_HANDLER]
    assert by[("lambda-out-of-memory", w.API_HANDLER)].captures["function"] == w.API_HANDLER
    assert by[("apigw-high-latency", w.HTTP_API)].captures["function"] == w.API_HANDLER
    # `Secret value is empty or invalid: NAME` and `... in table NAME` name them.
    assert by[("secret-value-empty", w.GITHUB_TOKEN)].captures["secret"] == w.GITHUB_TOKEN
    lock = by[("dynamodb-lock-stuck", w.LOCKS_TABLE)]
    assert (lock.resource_kind, lock.captures["table"], lock.captures["lock_id"]) == (
        "table", w.LOCKS_TABLE, w.LOCK_KEY)
    # A function's finding knows its execution role; a denied call's line names the role.
    assert by[("xray-tracing-missing", w.WEBSOCKET_HANDLER)].captures["role"] == w.BOS_ROLE
    assert ("iam-access-denied", w.BOS_ROLE) in by
