"""Resource discovery: what the stack is made of, filtered by name prefixes.

Every service is listed concurrently through one AwsSession; a service that fails
(access denied, unknown to the endpoint, throttled past the retries) becomes a warning
and the others still answer. Only metadata is read: environment variable *names*,
never their values; secrets' metadata, never their values.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from warroom.aws.scope import Scope, members, select
from warroom.aws.session import AwsSession, denied_action, explain
from warroom.errors import UserError
from warroom.incident.records import Resource

MAX_RECENT_BUILDS = 5     # per CodeBuild project
CONCURRENCY = 8           # per-resource detail calls in flight per service


def name_matches(name: str, prefixes: Sequence[str]) -> bool:
    """True when `name`, or any part of it after a '/', starts with one of `prefixes`.

    Path-like names (`/aws/lambda/bos-dev-api`, `/bos-dev/db/url`) are kept by the prefix
    of the resource they belong to, which is what a user filtering by stack name means.
    """
    if not prefixes:
        return True
    candidates = [name] + [name[i + 1:] for i, ch in enumerate(name) if ch == "/"]
    return any(c.startswith(p) for c in candidates for p in prefixes if p)


@dataclass
class Inventory:
    """The discovered resources and what could not be discovered."""

    resources: list[Resource] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)   # services that could not be listed
    listed: set[str] = field(default_factory=set)   # services listed in full

    def of_kind(self, kind: str) -> list[Resource]:
        return [r for r in self.resources if r.kind == kind]

    def get(self, kind: str, name: str) -> Resource | None:
        return next((r for r in self.resources if r.kind == kind and r.name == name), None)


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _named(items: Sequence[dict[str, Any]], key: str,
           prefixes: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
    """(name, item) for the items whose `key` passes the prefix filter."""
    return [(item.get(key, ""), item) for item in items if name_matches(item.get(key, ""), prefixes)]


async def _pages(client: Any, operation: str, key: str, **params: Any) -> list[Any]:
    """Every item under `key` across all pages of `operation`."""
    out: list[Any] = []
    async for page in client.get_paginator(operation).paginate(**params):
        out.extend(page.get(key, []))
    return out


async def _bounded(items: Iterable[Any], fn: Callable[[Any], Awaitable[Resource]],
                   fallback: Callable[[Any, str], Resource] | None = None,
                   limit: int = CONCURRENCY) -> list[Resource]:
    """`fn` over `items` with at most `limit` calls in flight, results in order.

    With `fallback`, one item whose details cannot be read is still listed, bare, with
    the reason in its `DescribeError` attribute, instead of failing the whole service.
    """
    gate = asyncio.Semaphore(limit)

    async def one(item: Any) -> Resource:
        async with gate:
            try:
                return await fn(item)
            except Exception as exc:
                if fallback is None:
                    raise
                return fallback(item, explain(exc))

    return list(await asyncio.gather(*(one(i) for i in items)))


# -- one function per service -----------------------------------------------------------


async def lambda_functions(session: AwsSession, prefixes: Sequence[str]) -> list[Resource]:
    client = await session.client("lambda")
    functions = await _pages(client, "list_functions", "Functions")
    out = []
    for name, fn in _named(functions, "FunctionName", prefixes):
        log_group = (fn.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{name}"
        attributes = {
            "Runtime": fn.get("Runtime"), "Handler": fn.get("Handler"),
            "Timeout": fn.get("Timeout"), "MemorySize": fn.get("MemorySize"),
            "TracingMode": (fn.get("TracingConfig") or {}).get("Mode", "PassThrough"),
            # Names only: values may hold secrets and are never read into warroom.
            "EnvironmentVariables": sorted((fn.get("Environment") or {}).get("Variables") or {}),
            "Layers": [layer.get("Arn", "") for layer in fn.get("Layers") or []],
            "LastModified": fn.get("LastModified"), "Role": fn.get("Role"),
            "State": fn.get("State"), "LastUpdateStatus": fn.get("LastUpdateStatus"),
            "CodeSize": fn.get("CodeSize"),
        }
        out.append(Resource("function", name, fn.get("FunctionArn", ""), "lambda", log_group,
                            attributes))
    return out


async def log_groups(session: AwsSession, prefixes: Sequence[str]) -> list[Resource]:
    client = await session.client("logs")
    groups = await _pages(client, "describe_log_groups", "logGroups")
    out = []
    for name, group in _named(groups, "logGroupName", prefixes):
        attributes = {"storedBytes": group.get("storedBytes"),
                      "retentionInDays": group.get("retentionInDays"),
                      "creationTime": group.get("creationTime")}
        out.append(Resource("log_group", name, group.get("arn", ""), "logs", name,
                            attributes))
    return out


async def apis(session: AwsSession, prefixes: Sequence[str]) -> list[Resource]:
    client = await session.client("apigatewayv2")
    items = await _pages(client, "get_apis", "Items")
    out = []
    for name, api in _named(items, "Name", prefixes):
        attributes = {"ApiId": api.get("ApiId"), "ProtocolType": api.get("ProtocolType"),
                      "ApiEndpoint": api.get("ApiEndpoint"),
                      "RouteSelectionExpression": api.get("RouteSelectionExpression")}
        arn = f"arn:aws:apigateway:{session.region or ''}::/apis/{api.get('ApiId', '')}"
        attributes["Routes"] = await _route_functions(client, str(api.get("ApiId", "")))
        out.append(Resource("api", name, arn, "apigateway", None,
                            attributes))
    return out


async def _route_functions(client: Any, api_id: str) -> dict[str, str] | None:
    """Route key -> the Lambda function its integration calls: a finding on the API names it."""
    try:
        integrations = await _pages(client, "get_integrations", "Items", ApiId=api_id)
        routes = await _pages(client, "get_routes", "Items", ApiId=api_id)
    except Exception:  # noqa: BLE001 - optional detail: the API is still listed without it
        return None
    functions = {i.get("IntegrationId"): function_of(str(i.get("IntegrationUri") or ""))
                 for i in integrations}
    out = {}
    for route in routes:
        target = str(route.get("Target") or "").removeprefix("integrations/")
        if functions.get(target):
            out[str(route.get("RouteKey"))] = functions[target]
    return out or None


def function_of(uri: str) -> str:
    """The function name in a Lambda ARN or an API Gateway Lambda integration URI, or ''."""
    found = re.search(r"arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:([A-Za-z0-9_-]{1,64})", uri)
    return found.group(1) if found else ""


async def tables(session: AwsSession, prefixes: Sequence[str]) -> list[Resource]:
    client = await session.client("dynamodb")
    names = [n for n in await _pages(client, "list_tables", "TableNames") if name_matches(n, prefixes)]

    async def detail(name: str) -> Resource:
        table = (await client.describe_table(TableName=name))["Table"]
        attributes: dict[str, Any] = {
            "TableStatus": table.get("TableStatus"),
            "BillingMode": (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED"),
            "KeySchema": {k["KeyType"]: k["AttributeName"] for k in table.get("KeySchema", [])},
            "ItemCount": table.get("ItemCount"),
        }
        throughput = table.get("ProvisionedThroughput") or {}
        if attributes["BillingMode"] == "PROVISIONED" and throughput:
            attributes["ReadCapacityUnits"] = throughput.get("ReadCapacityUnits")
            attributes["WriteCapacityUnits"] = throughput.get("WriteCapacityUnits")
        try:
            ttl = (await client.describe_time_to_live(TableName=name)).get("TimeToLiveDescription", {})
            attributes["TimeToLiveStatus"] = ttl.get("TimeToLiveStatus")
            if ttl.get("AttributeName"):
                attributes["TimeToLiveAttribute"] = ttl["AttributeName"]
        except Exception:  # noqa: BLE001 - TTL is a detail; the table is still worth listing
            pass
        return Resource("table", name, table.get("TableArn", ""), "dynamodb", None,
                        attributes)

    return await _bounded(names, detail, lambda name, why: Resource(
        "table", name, "", "dynamodb", None, {"DescribeError": why}))


async def codebuild_projects(session: AwsSession, prefixes: Sequence[str]) -> list[Resource]:
    client = await session.client("codebuild")
    names = [n for n in await _pages(client, "list_projects", "projects") if name_matches(n, prefixes)]
    projects: list[dict[str, Any]] = []
    for i in range(0, len(names), 100):  # BatchGetProjects takes at most 100 names
        projects.extend((await client.batch_get_projects(names=names[i:i + 100])).get("projects", []))

    async def detail(project: dict[str, Any]) -> Resource:
        name = project["name"]
        cw = ((project.get("logsConfig") or {}).get("cloudWatchLogs") or {})
        log_group = cw.get("groupName") or f"/aws/codebuild/{name}"
        ids = (await client.list_builds_for_project(projectName=name, sortOrder="DESCENDING")
               ).get("ids", [])[:MAX_RECENT_BUILDS]
        builds = (await client.batch_get_builds(ids=ids)).get("builds", []) if ids else []
        recent = [{
            "id": b.get("id"), "buildStatus": b.get("buildStatus"), "currentPhase": b.get("currentPhase"),
            "startTime": _iso(b.get("startTime")), "endTime": _iso(b.get("endTime")),
            "logGroup": (b.get("logs") or {}).get("groupName"),
            "logStream": (b.get("logs") or {}).get("streamName"),
        } for b in builds]
        recent.sort(key=lambda b: str(b.get("startTime") or ""), reverse=True)
        attributes = {"timeoutInMinutes": project.get("timeoutInMinutes"),
                      "sourceType": (project.get("source") or {}).get("type"),
                      "buildspec": bool((project.get("source") or {}).get("buildspec")),
                      "serviceRole": project.get("serviceRole"), "builds": recent}
        return Resource("project", name, project.get("arn", ""), "codebuild", log_group,
                        attributes)

    return await _bounded(projects, detail, lambda project, why: Resource(
        "project", project["name"], project.get("arn", ""), "codebuild",
        f"/aws/codebuild/{project['name']}", {"DescribeError": why}))


async def stacks(session: AwsSession, prefixes: Sequence[str]) -> list[Resource]:
    client = await session.client("cloudformation")
    summaries = await _pages(client, "list_stacks", "StackSummaries")
    out = []
    for stack in summaries:
        name = stack["StackName"]
        if stack.get("StackStatus") == "DELETE_COMPLETE" or not name_matches(name, prefixes):
            continue
        attributes = {"StackStatus": stack.get("StackStatus"),
                      "StackStatusReason": stack.get("StackStatusReason"),
                      "CreationTime": _iso(stack.get("CreationTime")),
                      "LastUpdatedTime": _iso(stack.get("LastUpdatedTime"))}
        out.append(Resource("stack", name, stack.get("StackId", ""), "cloudformation", None,
                            attributes))
    return out


async def topics(session: AwsSession, prefixes: Sequence[str]) -> list[Resource]:
    client = await session.client("sns")
    arns = [t["TopicArn"] for t in await _pages(client, "list_topics", "Topics")]
    arns = [a for a in arns if name_matches(a.rsplit(":", 1)[-1], prefixes)]

    async def detail(arn: str) -> Resource:
        subs = await _pages(client, "list_subscriptions_by_topic", "Subscriptions", TopicArn=arn)
        subscriptions = [{"Protocol": s.get("Protocol"), "Endpoint": s.get("Endpoint"),
                          "SubscriptionArn": s.get("SubscriptionArn")} for s in subs]
        return Resource("topic", arn.rsplit(":", 1)[-1], arn, "sns", None,
                        {"Subscriptions": subscriptions})

    return await _bounded(arns, detail, lambda arn, why: Resource(
        "topic", arn.rsplit(":", 1)[-1], arn, "sns", None, {"DescribeError": why}))


async def secrets(session: AwsSession, prefixes: Sequence[str]) -> list[Resource]:
    client = await session.client("secretsmanager")
    items = await _pages(client, "list_secrets", "SecretList")
    out = []
    for name, secret in _named(items, "Name", prefixes):
        # Metadata only: ListSecrets never returns values, and discovery never asks for one.
        attributes = {"KmsKeyId": secret.get("KmsKeyId"),
                      "RotationEnabled": secret.get("RotationEnabled", False),
                      "LastChangedDate": _iso(secret.get("LastChangedDate")),
                      "LastAccessedDate": _iso(secret.get("LastAccessedDate")),
                      "DeletedDate": _iso(secret.get("DeletedDate")),
                      "HasCurrentVersion": any("AWSCURRENT" in stages for stages in
                                               (secret.get("SecretVersionsToStages") or {}).values())}
        out.append(Resource("secret", name, secret.get("ARN", ""), "secretsmanager", None,
                            attributes))
    return out


async def kms_keys(session: AwsSession, prefixes: Sequence[str]) -> list[Resource]:
    client = await session.client("kms")
    keys = await _pages(client, "list_keys", "Keys")
    aliases: dict[str, list[str]] = {}
    for alias in await _pages(client, "list_aliases", "Aliases"):
        if alias.get("TargetKeyId"):
            aliases.setdefault(alias["TargetKeyId"], []).append(alias["AliasName"])

    def short(alias: str) -> str:
        return alias.removeprefix("alias/")

    wanted = [k for k in keys if not prefixes or any(
        name_matches(n, prefixes) for n in [k["KeyId"], *map(short, aliases.get(k["KeyId"], []))])]

    async def detail(key: dict[str, Any]) -> Resource:
        meta = (await client.describe_key(KeyId=key["KeyId"]))["KeyMetadata"]
        names = sorted(aliases.get(key["KeyId"], []))
        attributes = {"KeyId": key["KeyId"], "Aliases": names, "KeyState": meta.get("KeyState"),
                      "Enabled": meta.get("Enabled"), "KeyManager": meta.get("KeyManager"),
                      "Description": meta.get("Description"),
                      "DeletionDate": _iso(meta.get("DeletionDate"))}
        name = short(names[0]) if names else key["KeyId"]
        return Resource("key", name, key.get("KeyArn", ""), "kms", None,
                        attributes)

    return await _bounded(wanted, detail, lambda key, why: Resource(
        "key", key["KeyId"], key.get("KeyArn", ""), "kms", None,
        {"KeyId": key["KeyId"], "DescribeError": why}))


def _alarm_resource(alarm: dict[str, Any], composite: bool) -> Resource:
    attributes = {
        "StateValue": alarm.get("StateValue"), "StateReason": alarm.get("StateReason"),
        "StateUpdatedTimestamp": _iso(alarm.get("StateUpdatedTimestamp")),
        "ActionsEnabled": alarm.get("ActionsEnabled", True),
        "AlarmActions": alarm.get("AlarmActions", []), "OKActions": alarm.get("OKActions", []),
        "InsufficientDataActions": alarm.get("InsufficientDataActions", []),
        "Composite": composite,
    }
    if not composite:
        attributes.update({
            "Namespace": alarm.get("Namespace"), "MetricName": alarm.get("MetricName"),
            "Statistic": alarm.get("Statistic") or alarm.get("ExtendedStatistic"),
            "Dimensions": {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])},
            "Threshold": alarm.get("Threshold"),
            "ComparisonOperator": alarm.get("ComparisonOperator"),
        })
    return Resource("alarm", alarm["AlarmName"], alarm.get("AlarmArn", ""), "cloudwatch", None,
                    attributes)


async def alarms(session: AwsSession, prefixes: Sequence[str]) -> list[Resource]:
    client = await session.client("cloudwatch")
    out = []
    async for page in client.get_paginator("describe_alarms").paginate(
            AlarmTypes=["MetricAlarm", "CompositeAlarm"]):
        for alarm in page.get("MetricAlarms", []):
            if name_matches(alarm["AlarmName"], prefixes):
                out.append(_alarm_resource(alarm, composite=False))
        for alarm in page.get("CompositeAlarms", []):
            if name_matches(alarm["AlarmName"], prefixes):
                out.append(_alarm_resource(alarm, composite=True))
    return out


async def parameters(session: AwsSession, prefixes: Sequence[str]) -> list[Resource]:
    client = await session.client("ssm")
    items = await _pages(client, "describe_parameters", "Parameters")
    out = []
    for name, param in _named(items, "Name", prefixes):
        attributes = {"Type": param.get("Type"), "Version": param.get("Version"),
                      "LastModifiedDate": _iso(param.get("LastModifiedDate"))}
        out.append(Resource("parameter", name, param.get("ARN", ""), "ssm", None,
                            attributes))
    return out


async def buckets(session: AwsSession, prefixes: Sequence[str]) -> list[Resource]:
    client = await session.client("s3")
    # ListBuckets answers with every region's buckets: ask for this region's only.
    region = session.region
    answer = await client.list_buckets(**({"BucketRegion": region} if region else {}))
    return [Resource("bucket", b["Name"], f"arn:aws:s3:::{b['Name']}", "s3", None,
                     {"CreationDate": _iso(b.get("CreationDate"))})
            for b in answer.get("Buckets", []) if name_matches(b["Name"], prefixes)]


Lister = Callable[[AwsSession, Sequence[str]], Awaitable[list[Resource]]]

LISTERS: dict[str, Lister] = {
    "lambda": lambda_functions, "logs": log_groups, "apigatewayv2": apis, "dynamodb": tables,
    "codebuild": codebuild_projects, "cloudformation": stacks, "sns": topics,
    "secretsmanager": secrets, "kms": kms_keys, "cloudwatch": alarms, "ssm": parameters,
    "s3": buckets,
}


async def discover(session: AwsSession, prefixes: Sequence[str] = (),
                   services: Iterable[str] | None = None, scope: Scope | None = None) -> Inventory:
    """List every service concurrently, each resource labelled with the session's region;
    failures become warnings.

    With a `scope` of stacks or tags, everything is listed and then only what they name
    (and the prefixes) is kept. Raises UserError only when every service failed, which means
    the session itself is unusable (the endpoint went away, the credentials were revoked).
    """
    if scope is not None and scope.by_membership:
        found, inventory = await asyncio.gather(members(session, scope), discover(session, (), services))
        inventory.resources = select(inventory.resources, scope, found,
                                     lambda name: name_matches(name, scope.prefixes))
        inventory.warnings = [*found.warnings, *inventory.warnings]
        return inventory
    prefixes = scope.prefixes if scope is not None else prefixes
    names = list(services) if services is not None else list(LISTERS)
    results = await asyncio.gather(*(LISTERS[n](session, prefixes) for n in names),
                                   return_exceptions=True)
    inventory = Inventory()
    errors: list[BaseException] = []
    for name, result in zip(names, results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, Exception):
                raise result  # CancelledError, KeyboardInterrupt: not ours to swallow
            errors.append(result)
            inventory.failed.add(name)
            action = denied_action(result, name)
            inventory.warnings.append(
                f"{action} denied: {name} resources are not listed; the rest keeps working "
                "(`warroom doctor` checks every permission)" if action else
                f"{name}: {explain(result, session.options)}")
        else:
            inventory.listed.add(name)
            inventory.resources.extend(result)
    if names and len(errors) == len(names):
        raise UserError(explain(errors[0], session.options))
    region = session.region or ""
    inventory.resources = [dataclasses.replace(r, region=region) for r in inventory.resources]
    return inventory
