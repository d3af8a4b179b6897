"""Where changes come from: CloudTrail and the services' own version records, read-only.

CloudTrail LookupEvents is paced under its quota (2 requests/s per account and region,
shared by every tool of the account). Secrets Manager is read for version ids and stages
only, never a value; SSM parameter history is read without decryption.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from warroom.aws.pacing import Pacer, no_retry_options
from warroom.aws.session import AwsSession, error_code, explain
from warroom.incident import changes as domain
from warroom.incident.changes import Change

LOOKUP_RATE = 1.5        # LookupEvents requests/s: under AWS's 2/s, leaving room for others
MAX_PAGES = 20           # LookupEvents pages (50 events each) read per query
HISTORY_PAGES = 2        # pages of a resource's older history read to learn a "before"
HISTORY_RESOURCES = 10   # resources whose older history is read, at most (each costs a paced call)
MAX_BUILDS = 10          # recent builds per CodeBuild project
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,140}|arn:aws[a-z-]*:lambda:[^/\s]+")


def pacer() -> Pacer:
    return Pacer(rates={"LookupEvents": LOOKUP_RATE}, burst=1)


@dataclass
class Timeline:
    """The changes found in one region (oldest first) and what could not be read."""

    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    region: str = ""


async def lookup(session: AwsSession, pace: Pacer, *, since: float | None = None, until: float | None = None,
                 attribute: tuple[str, str] | None = None, pages: int = MAX_PAGES) -> list[dict[str, Any]]:
    """Write events from CloudTrail, newest first, across pages (each page paced)."""
    client = await session.client("cloudtrail")
    params: dict[str, Any] = {"MaxResults": 50}
    if since is not None:
        params["StartTime"] = since
    if until is not None:
        params["EndTime"] = until
    key, value = attribute or ("ReadOnly", "false")
    params["LookupAttributes"] = [{"AttributeKey": key, "AttributeValue": value}]
    events: list[dict[str, Any]] = []
    for _ in range(pages):
        page = await pace.call("LookupEvents", client.lookup_events, attempts=8, **params)
        events += [e for e in page.get("Events", []) if str(e.get("ReadOnly", "false")).lower() != "true"]
        if not page.get("NextToken"):
            break
        params["NextToken"] = page["NextToken"]
    return events


async def trail_changes(session: AwsSession, pace: Pacer, since: float, until: float,
                        resources: Sequence[str] = ()) -> list[Change]:
    """CloudTrail's changes in the window (on `resources`, or all); older events only to learn what was before."""
    scopes: list[tuple[str, str] | None] = [("ResourceName", name) for name in resources] or [None]
    events: list[dict[str, Any]] = []
    for scope in scopes:
        events += await lookup(session, pace, since=since, until=until, attribute=scope)
    # A configuration change whose old value is not in the window: read that resource's
    # history (unless it was created in the window: then there is none).
    seen = domain.from_cloudtrail(events)
    created = {c.resource for c in seen if c.event.startswith("Create")}
    incomplete = {c.resource for c in seen
                  if c.event in domain.BEFORE_FROM_TRAIL and c.before is None and c.resource not in created}
    for name in sorted(incomplete)[:HISTORY_RESOURCES]:
        events += await lookup(session, pace, until=since, attribute=("ResourceName", name), pages=HISTORY_PAGES)
    unique = {e.get("EventId"): e for e in events}
    return domain.select(domain.from_cloudtrail(unique.values()), since, until)


async def _secrets(session: AwsSession, names: set[str] | None) -> list[Change]:
    client = await session.client("secretsmanager")
    found: list[Change] = []
    async for page in client.get_paginator("list_secrets").paginate():
        for secret in page.get("SecretList", []):
            if names is not None and secret["Name"] not in names:
                continue
            versions = await client.list_secret_version_ids(SecretId=secret["ARN"], IncludeDeprecated=True)
            found += domain.from_secret_versions(secret["Name"], versions.get("Versions", []))
    return found


async def _parameters(session: AwsSession, names: set[str] | None) -> list[Change]:
    client = await session.client("ssm")
    found: list[Change] = []
    async for page in client.get_paginator("describe_parameters").paginate():
        for parameter in page.get("Parameters", []):
            if names is not None and parameter["Name"] not in names:
                continue
            history: list[dict[str, Any]] = []
            async for part in client.get_paginator("get_parameter_history").paginate(
                    Name=parameter["Name"], WithDecryption=False):
                history += part.get("Parameters", [])
            found += domain.from_parameter_history(history)
    return found


async def _policies(session: AwsSession, names: set[str] | None) -> list[Change]:
    client = await session.client("iam")
    found: list[Change] = []
    async for page in client.get_paginator("list_policies").paginate(Scope="Local"):
        for policy in page.get("Policies", []):
            if names is not None and policy["PolicyName"] not in names and policy["Arn"] not in names:
                continue
            versions = await client.list_policy_versions(PolicyArn=policy["Arn"])
            found += domain.from_policy_versions(policy["Arn"], versions.get("Versions", []))
    return found


async def _stacks(session: AwsSession, names: set[str] | None) -> list[Change]:
    client = await session.client("cloudformation")
    found: list[Change] = []
    stacks = (await client.describe_stacks()).get("Stacks", [])
    for stack in stacks:
        if names is not None and stack["StackName"] not in names:
            continue
        events = (await client.describe_stack_events(StackName=stack["StackName"])).get("StackEvents", [])
        found += domain.from_stack_events(stack["StackName"], events)
    return found


async def _builds(session: AwsSession, names: set[str] | None) -> list[Change]:
    client = await session.client("codebuild")
    projects = (await client.list_projects()).get("projects", [])
    ids: list[str] = []
    for project in projects:
        if names is None or project in names:
            ids += (await client.list_builds_for_project(projectName=project)).get("ids", [])[:MAX_BUILDS]
    builds = (await client.batch_get_builds(ids=ids)).get("builds", []) if ids else []
    return domain.from_builds(builds)


async def _versions(session: AwsSession, names: set[str] | None) -> list[Change]:
    client = await session.client("lambda")
    found: list[Change] = []
    async for page in client.get_paginator("list_functions").paginate():
        for fn in page.get("Functions", []):
            if names is not None and fn["FunctionName"] not in names:
                continue
            versions = (await client.list_versions_by_function(FunctionName=fn["FunctionName"])).get("Versions", [])
            found += domain.from_function_versions(fn["FunctionName"], versions)
    return found


SOURCES: dict[str, Callable[[AwsSession, set[str] | None], Awaitable[list[Change]]]] = {
    "secretsmanager": _secrets, "ssm": _parameters, "iam": _policies, "cloudformation": _stacks,
    "codebuild": _builds, "lambda": _versions,
}
GLOBAL_SOURCES = frozenset({"iam"})  # the same in every region: read in one


async def collect(session: AwsSession, since: float, until: float, resources: Sequence[str] = (),
                  pace: Pacer | None = None, global_sources: bool = True) -> Timeline:
    """Every source of the session's region at once (the global ones too unless told not);
    a source that fails becomes a warning and the others still answer."""
    pace = pace or pacer()
    names = set(resources) or None
    sources = {n: s for n, s in SOURCES.items() if global_sources or n not in GLOBAL_SOURCES}
    # CloudTrail's calls go through the pacer alone (botocore's retries off), so each
    # attempt is paced under the quota and counted once.
    async with AwsSession(no_retry_options(session.options)) as paced:
        jobs = {"cloudtrail": trail_changes(paced, pace, since, until, resources),
                **{name: source(session, names) for name, source in sources.items()}}
        results = await asyncio.gather(*jobs.values(), return_exceptions=True)
    timeline = Timeline(region=session.region or "")
    found: list[Change] = []
    for name, result in zip(jobs, results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, Exception):
                raise result
            timeline.warnings.append(f"{name}: {explain(result, session.options)}")
            continue
        found += result
    timeline.changes = domain.select(domain.merge(found), since, until, resources)
    return timeline


async def dependencies(session: AwsSession, resource: str) -> dict[str, str]:
    """What a resource depends on (name -> relation): a function's role, layers, secrets, parameters, tables.

    Reads the function's configuration and the names of secrets, parameters and tables;
    environment values are compared with those names here and not kept.
    """
    if not _FUNCTION_NAME.fullmatch(resource):
        return await _api_dependencies(session, resource)
    lam = await session.client("lambda")
    try:
        config = await lam.get_function_configuration(FunctionName=resource)
    except Exception as exc:  # noqa: BLE001 - not a function: perhaps an API
        status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
        if error_code(exc) == "ResourceNotFoundException" or status == 404:
            return await _api_dependencies(session, resource)
        raise
    known: dict[str, tuple[str, str]] = {}
    sm = await session.client("secretsmanager")
    async for page in sm.get_paginator("list_secrets").paginate():
        for secret in page.get("SecretList", []):
            known[secret["Name"]] = known[secret["ARN"]] = ("secret", secret["Name"])
    ssm = await session.client("ssm")
    async for page in ssm.get_paginator("describe_parameters").paginate():
        for parameter in page.get("Parameters", []):
            known[parameter["Name"]] = ("parameter", parameter["Name"])
    ddb = await session.client("dynamodb")
    async for page in ddb.get_paginator("list_tables").paginate():
        for table in page.get("TableNames", []):
            known[table] = ("table", table)
    return domain.function_dependencies(config, known)


async def _api_dependencies(session: AwsSession, name: str) -> dict[str, str]:
    """An HTTP or WebSocket API's integration functions."""
    gw = await session.client("apigatewayv2")
    found: dict[str, str] = {}
    for api in (await gw.get_apis()).get("Items", []):
        if api.get("Name") != name:
            continue
        for integration in (await gw.get_integrations(ApiId=api["ApiId"])).get("Items", []):
            uri = str(integration.get("IntegrationUri", ""))
            if ":function:" in uri:
                found[uri.split(":function:", 1)[1].split(":", 1)[0].split("/", 1)[0]] = "its integration"
    return found


async def suspects(session: AwsSession, resource: str, first_seen: float,
                   window_s: float = domain.WINDOW_S, pace: Pacer | None = None) -> list[domain.Suspect]:
    """The changes that may have caused a symptom on `resource` first seen at `first_seen`, ranked."""
    related = await dependencies(session, resource)
    timeline = await collect(session, first_seen - window_s, first_seen, [resource, *related], pace)
    return domain.suspects(resource, first_seen, timeline.changes, related, window_s)
