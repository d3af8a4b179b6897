"""State probes: playbook symptoms read off the discovered state plus a few read-only calls.

Each probe kind in `PROBE_KINDS` has one async function here returning findings. Probe
params are free-form; the resource ones (function, table, secret, topic, alarm, key,
log_group, stack, project) take a name, a glob or a list. A probe whose resource param
is absent, or is a placeholder for the playbook's resource parameter (`'{function}'`),
applies to every discovered resource of its kind, except the probes that check a
specific requirement (a named thing exists, a named variable is set): those use the
placeholder's default. Secret values are read only to test emptiness or JSON validity,
in memory, and are never kept, logged or shown.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from warroom.aws.discovery import Inventory, name_matches
from warroom.aws.metrics import DIMENSION_KINDS, MetricFetcher, MetricQuery, dimension_value, resource_captures
from warroom.aws.session import AwsSession, error_code, explain
from warroom.incident.records import Finding, Resource
from warroom.playbook.catalog import Catalog
from warroom.playbook.model import PROBE_KINDS, Playbook, ProbeSymptom
from warroom.playbook.template import PLACEHOLDER

# Probe param name -> resource kind.
PARAM_KINDS: dict[str, str] = {
    "function": "function", "table": "table", "secret": "secret", "topic": "topic",
    "alarm": "alarm", "key": "key", "log_group": "log_group", "stack": "stack",
    "project": "project", "api": "api", "bucket": "bucket", "parameter": "parameter",
}

# Probes about one configured thing: a placeholder resolves to the parameter's default
# rather than to "every resource", which would flag every function for one app's variable.
NAMED_PROBES = frozenset({"secret-missing", "function-missing", "codebuild-project-missing",
                          "env-var-missing"})

# Values people store before the real one; treated as "not populated".
PLACEHOLDER_VALUES = frozenset({"placeholder", "changeme", "change-me", "todo", "tbd", "replace_me",
                                "replace-me", "dummy", "xxx", "null", "none", "{}", '""', "''"})

LOCK_SCAN_LIMIT = 1000          # items read from a lock table per probe
DEFAULT_LOCK_MAX_AGE = 7200     # seconds (the worker's 2 h TTL)
METRICS_MISSING_LOOKBACK = 86400
CONCURRENCY = 5                 # targeted calls in flight per probe
FAILED_STACK = re.compile(r"(_FAILED$|ROLLBACK)")
BAD_KEY_STATES = ("Disabled", "PendingDeletion", "PendingReplicaDeletion", "PendingImport", "Unavailable")


@dataclass
class ProbeContext:
    """What every probe may use: the session, the inventory, the scope and a clock."""

    session: AwsSession
    inventory: Inventory
    prefixes: Sequence[str] = ()
    fetcher: MetricFetcher | None = None
    now_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    warnings: list[str] = field(default_factory=list)
    # Log groups asked about, each once per check: a probe and the log query both want to know.
    _log_groups: dict[str, asyncio.Future[bool | None]] = field(default_factory=dict, init=False, repr=False)

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    async def log_group_exists(self, name: str) -> bool | None:
        """Whether a log group exists (None: could not tell): as discovery's listing says, or
        asked where the listing's prefixes left the name out (a function's own custom group)."""
        if self.inventory.get("log_group", name) is not None:
            return True
        if "logs" in self.inventory.listed and (not self.prefixes or name_matches(name, self.prefixes)):
            # Discovery listed every group and kept the ones these prefixes pass, and in a
            # stack or tag scope the ones its resources write to: this one is not there.
            return False
        asked = self._log_groups.get(name)
        if asked is None:
            asked = self._log_groups[name] = asyncio.ensure_future(self._ask_log_group(name))
        return await asyncio.shield(asked)

    async def _ask_log_group(self, name: str) -> bool | None:
        client = await self.session.client("logs")
        try:
            # Names sort before the names they prefix: the group, if it exists, comes first.
            answer = await client.describe_log_groups(logGroupNamePrefix=name, limit=1)
        except Exception as exc:  # noqa: BLE001
            self.warn(f"log group {name}: {explain(exc, self.session.options)}")
            return None
        return any(g.get("logGroupName") == name for g in answer.get("logGroups", []))

    def in_scope(self, name: str) -> bool:
        """Whether a named resource that discovery did not list concerns this check.

        With --prefix, the prefixes decide. Without, a name is in scope when something
        discovered shares its first two name parts (`kiro-worker`), so that the guides'
        example names do not raise findings in accounts that run something else.
        """
        if self.prefixes:
            return name_matches(name, self.prefixes)
        family = _family(name)
        return bool(family) and any(name_matches(r.name, [family]) for r in self.inventory.resources)


def _family(name: str) -> str:
    """The first two parts of a name (`kiro-worker` of `kiro-worker-test-locks`), or ''."""
    base = name.rsplit(":", 1)[-1] if name.startswith("arn:") else name
    found = re.match(r"[A-Za-z0-9]+[-_./][A-Za-z0-9]+", base.lstrip("/"))
    return found.group(0) if found else ""


@dataclass(frozen=True)
class Target:
    """Which resources of a kind a probe applies to."""

    every: bool = False                  # all discovered resources of the kind
    names: tuple[str, ...] = ()          # names or globs


def resolve_params(playbook: Playbook, probe: ProbeSymptom) -> tuple[dict[str, Any], dict[str, Target]]:
    """(plain params with placeholders filled from defaults, resource targets by kind)."""
    params: dict[str, Any] = {}
    targets: dict[str, Target] = {}
    for key, raw in probe.params.items():
        kind = PARAM_KINDS.get(key)
        value = _fill(raw, playbook, keep_resources=kind is not None and probe.probe not in NAMED_PROBES)
        if kind is None:
            params[key] = value
            continue
        if value is None or value == "" or value == []:
            targets[kind] = Target(every=True)
        else:
            values = value if isinstance(value, list) else [value]
            targets[kind] = Target(names=tuple(str(v) for v in values if v not in (None, "")))
    return params, targets


def _fill(raw: Any, playbook: Playbook, keep_resources: bool) -> Any:
    """A param value with `{name}` placeholders replaced by the parameter's default.

    Returns None when a placeholder has no default, or names a resource parameter and
    `keep_resources` is set (meaning "whatever resource is selected": all of them here).
    """
    if isinstance(raw, list):
        filled = [_fill(item, playbook, keep_resources) for item in raw]
        return [f for f in filled if f is not None] or None
    if not isinstance(raw, str):
        return raw
    missing = False

    def sub(found: re.Match[str]) -> str:
        nonlocal missing
        param = playbook.param(found.group(1))
        if param is None or param.default is None or (keep_resources and param.resource):
            missing = True
            return ""
        return str(param.default)

    whole = PLACEHOLDER.fullmatch(raw)
    if whole:
        param = playbook.param(whole.group(1))
        if param is None or param.default is None or (keep_resources and param.resource):
            return None
        return param.default
    out = PLACEHOLDER.sub(sub, raw)
    return None if missing else out


def _matches(resource: Resource, name: str) -> bool:
    candidates = {resource.name, resource.arn}
    if resource.kind == "key":
        candidates.update(resource.attributes.get("Aliases", []))
        candidates.add(str(resource.attributes.get("KeyId", "")))
    if resource.kind == "api":
        candidates.add(str(resource.attributes.get("ApiId", "")))
    if any(ch in name for ch in "*?["):
        return any(fnmatch.fnmatchcase(c, name) for c in candidates if c)
    return name in candidates


def select(ctx: ProbeContext, kind: str, target: Target | None) -> tuple[list[Resource], list[str]]:
    """(discovered resources the target names, exact names it gives that were not discovered)."""
    resources = ctx.inventory.of_kind(kind)
    if target is None or target.every:
        return resources, []
    chosen: list[Resource] = []
    absent: list[str] = []
    for name in target.names:
        hits = [r for r in resources if _matches(r, name)]
        chosen.extend(r for r in hits if r not in chosen)
        if not hits and not any(ch in name for ch in "*?["):
            absent.append(name)
    return chosen, absent


def _finding(ctx: ProbeContext, playbook: Playbook, resource: Resource | None, kind: str,
             name: str, evidence: str, captures: dict[str, str] | None = None) -> Finding:
    caps = resource_captures(playbook, resource) if resource is not None else {
        p.name: name for p in playbook.params if p.resource == kind}
    caps.update(captures or {})
    return Finding(playbook.id, resource.name if resource else name, kind, evidence, ctx.now_ms,
                   "probe", caps)


async def bounded(items: Sequence[Any], fn: Callable[[Any], Awaitable[Any]]) -> list[Any]:
    """`fn` of each item, at most CONCURRENCY at a time."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(item: Any) -> Any:
        async with gate:
            return await fn(item)

    return list(await asyncio.gather(*(one(i) for i in items)))


def _service_down(ctx: ProbeContext, service: str) -> bool:
    """True when discovery could not list `service`: absence proves nothing then."""
    return service in ctx.inventory.failed


Probe = Callable[[ProbeContext, Playbook, dict[str, Any], dict[str, Target]], Awaitable[list[Finding]]]


# -- SNS ----------------------------------------------------------------------------------


async def sns_subscription_pending(ctx: ProbeContext, playbook: Playbook, params: dict[str, Any],
                                   targets: dict[str, Target]) -> list[Finding]:
    topics, _ = select(ctx, "topic", targets.get("topic"))
    out = []
    for topic in topics:
        for sub in topic.attributes.get("Subscriptions", []):
            if sub.get("SubscriptionArn") == "PendingConfirmation":
                out.append(_finding(ctx, playbook, topic, "topic", topic.name,
                                    f"{sub.get('Protocol')} subscription to {sub.get('Endpoint')} "
                                    f"of topic {topic.name} is pending confirmation"))
    return out


# -- Secrets Manager ----------------------------------------------------------------------


async def _missing_by_name(ctx: ProbeContext, playbook: Playbook, target: Target | None,
                           kind: str, service: str, label: str,
                           lookup: Callable[[Any, str], Awaitable[Any]]) -> list[Finding]:
    """Findings for named resources that the service says do not exist."""
    if target is None or target.every or _service_down(ctx, service):
        return []  # every discovered resource exists; "missing" needs a name
    _, absent = select(ctx, kind, target)
    client = await ctx.session.client(service)

    async def check(name: str) -> Finding | None:
        # Discovery may have filtered it out by prefix: ask for it by name.
        try:
            await lookup(client, name)
            return None
        except Exception as exc:  # noqa: BLE001
            if error_code(exc) == "ResourceNotFoundException":
                return _finding(ctx, playbook, None, kind, name,
                                f"{label} {name} does not exist in this account and region")
            ctx.warn(f"{kind}-missing: {name}: {explain(exc, ctx.session.options)}")
            return None

    return [f for f in await bounded([n for n in absent if ctx.in_scope(n)], check) if f]


async def secret_missing(ctx: ProbeContext, playbook: Playbook, params: dict[str, Any],
                         targets: dict[str, Target]) -> list[Finding]:
    return await _missing_by_name(ctx, playbook, targets.get("secret"), "secret", "secretsmanager",
                                  "secret", lambda c, name: c.describe_secret(SecretId=name))


async def _secret_value(ctx: ProbeContext, secret: Resource) -> tuple[str, Any]:
    """('ok', value) | ('empty', None) | ('error', None): the value stays in this process."""
    client = await ctx.session.client("secretsmanager")
    try:
        answer = await client.get_secret_value(SecretId=secret.arn or secret.name)
    except Exception as exc:  # noqa: BLE001
        code = error_code(exc)
        # No AWSCURRENT version: created without a value.
        if code == "ResourceNotFoundException":
            return "empty", None
        ctx.warn(f"secret {secret.name}: cannot read its value to check it: "
                 f"{explain(exc, ctx.session.options)}")
        return "error", None
    if "SecretString" in answer:
        return "ok", answer["SecretString"]
    if "SecretBinary" in answer:
        return "ok", answer["SecretBinary"]
    return "empty", None


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (bytes, bytearray)):
        return not value.strip()
    text = str(value).strip()
    return not text or text.lower() in PLACEHOLDER_VALUES


async def secret_empty(ctx: ProbeContext, playbook: Playbook, params: dict[str, Any],
                       targets: dict[str, Target]) -> list[Finding]:
    secrets, _ = select(ctx, "secret", targets.get("secret"))

    async def check(secret: Resource) -> Finding | None:
        state, value = await _secret_value(ctx, secret)
        if state == "error":
            return None
        if state == "empty":
            return _finding(ctx, playbook, secret, "secret", secret.name,
                            f"secret {secret.name} has no value (no AWSCURRENT version)")
        if _is_empty(value):
            what = "is empty" if not str(value).strip() else "holds a placeholder, not a real value"
            return _finding(ctx, playbook, secret, "secret", secret.name, f"secret {secret.name} {what}")
        return None

    return [f for f in await bounded(secrets, check) if f]


async def secret_invalid_json(ctx: ProbeContext, playbook: Playbook, params: dict[str, Any],
                              targets: dict[str, Target]) -> list[Finding]:
    secrets, _ = select(ctx, "secret", targets.get("secret"))
    keys = params.get("keys") or []
    keys = [keys] if isinstance(keys, str) else [str(k) for k in keys]

    async def check(secret: Resource) -> Finding | None:
        state, value = await _secret_value(ctx, secret)
        if state != "ok" or _is_empty(value):
            return None  # secret-empty reports those
        try:
            parsed = json.loads(value)
        except RecursionError:  # valid JSON perhaps, nested deeper than Python parses
            ctx.warn(f"secret {secret.name}: nested too deeply to check its JSON")
            return None
        except (ValueError, TypeError) as exc:
            # The parser's position only; its message could quote the value.
            where = f" (line {exc.lineno} column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
            return _finding(ctx, playbook, secret, "secret", secret.name,
                            f"secret {secret.name} is not valid JSON{where}")
        if keys:
            if not isinstance(parsed, dict):
                return _finding(ctx, playbook, secret, "secret", secret.name,
                                f"secret {secret.name} is JSON but not an object with {', '.join(keys)}")
            lacking = [k for k in keys if not parsed.get(k)]
            if lacking:
                return _finding(ctx, playbook, secret, "secret", secret.name,
                                f"secret {secret.name} lacks {', '.join(lacking)}")
        return None

    return [f for f in await bounded(secrets, check) if f]


# -- DynamoDB -----------------------------------------------------------------------------


def _plain(attribute: dict[str, Any]) -> Any:
    """A DynamoDB attribute value as a Python scalar (enough for keys and timestamps)."""
    for tag in ("S", "N", "BOOL"):
        if tag in attribute:
            return attribute[tag]
    return next(iter(attribute.values()), None)


def _epoch_seconds(value: Any) -> float | None:
    """Epoch seconds from a number (s or ms) or an ISO-8601 string."""
    try:
        number = float(value)
        return number / 1000 if number > 1e11 else number
    except (TypeError, ValueError):
        pass
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()


AGE_ATTRIBUTES = ("acquiredAt", "acquired_at", "createdAt", "created_at", "timestamp", "lockedAt", "startedAt")


def _ago(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        hours, minutes = divmod(seconds // 60, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


async def lock_expired(ctx: ProbeContext, playbook: Playbook, params: dict[str, Any],
                       targets: dict[str, Target]) -> list[Finding]:
    target = targets.get("table")
    tables, _ = select(ctx, "table", target)
    if target is None or target.every:
        # Scanning every table would read application data; lock tables say so in their name.
        tables = [t for t in tables if "lock" in t.name.lower()]
    max_age = float(params.get("max_age_seconds") or DEFAULT_LOCK_MAX_AGE)
    now = ctx.now_ms / 1000
    client = await ctx.session.client("dynamodb") if tables else None

    async def check(table: Resource) -> list[Finding]:
        ttl_attr = params.get("ttl_attribute") or table.attributes.get("TimeToLiveAttribute")
        key_attr = params.get("key") or (table.attributes.get("KeySchema") or {}).get("HASH")
        found: list[Finding] = []
        scanned = 0
        request: dict[str, Any] = {"TableName": table.name, "Limit": 100}
        while scanned < LOCK_SCAN_LIMIT:
            page = await client.scan(**request)  # type: ignore[union-attr]
            for item in page.get("Items", []):
                scanned += 1
                key = _plain(item[key_attr]) if key_attr and key_attr in item else "?"
                expires = _epoch_seconds(_plain(item[ttl_attr])) if ttl_attr and ttl_attr in item else None
                if expires is not None:
                    if expires < now:
                        found.append(_finding(
                            ctx, playbook, table, "table", table.name,
                            f"lock {key_attr or 'item'}={key} in {table.name} expired {_ago(now - expires)} ago "
                            f"({ttl_attr}) and is still held", {"lock_id": str(key)}))
                    continue
                # No TTL on the item: judge by when it was taken.
                started = next((_epoch_seconds(_plain(item[a])) for a in AGE_ATTRIBUTES if a in item), None)
                if started is not None and now - started > max_age:
                    found.append(_finding(
                        ctx, playbook, table, "table", table.name,
                        f"lock {key_attr or 'item'}={key} in {table.name} is {_ago(now - started)} old "
                        f"(over {_ago(max_age)}) and has no {ttl_attr or 'TTL'}", {"lock_id": str(key)}))
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found

    async def guarded(table: Resource) -> list[Finding]:
        try:
            return await check(table)
        except Exception as exc:  # noqa: BLE001
            ctx.warn(f"lock-expired: {table.name}: {explain(exc, ctx.session.options)}")
            return []

    return [f for group in await bounded(tables, guarded) for f in group]


# -- CloudWatch Logs ----------------------------------------------------------------------


async def log_group_missing(ctx: ProbeContext, playbook: Playbook, params: dict[str, Any],
                            targets: dict[str, Target]) -> list[Finding]:
    functions, _ = select(ctx, "function", targets.get("function"))

    async def check(fn: Resource) -> Finding | None:
        group = fn.log_group or f"/aws/lambda/{fn.name}"
        if await ctx.log_group_exists(group) is False:
            return _finding(ctx, playbook, fn, "function", fn.name,
                            f"function {fn.name} has no log group {group}", {"log_group": group})
        return None

    return [f for f in await bounded(functions, check) if f]


async def log_streams_missing(ctx: ProbeContext, playbook: Playbook, params: dict[str, Any],
                              targets: dict[str, Target]) -> list[Finding]:
    groups, _ = select(ctx, "log_group", targets.get("log_group"))
    if "function" in targets and "log_group" not in targets:
        functions, _ = select(ctx, "function", targets["function"])
        wanted = {f.log_group for f in functions}
        groups = [g for g in ctx.inventory.of_kind("log_group") if g.name in wanted]
    # A group that stores bytes has had streams: only the others cost a DescribeLogStreams,
    # whose quota the account shares (every group each round would spend it in bursts).
    groups = [g for g in groups if not _stores_bytes(g)]
    client = await ctx.session.client("logs") if groups else None

    async def check(group: Resource) -> Finding | None:
        try:
            answer = await client.describe_log_streams(logGroupName=group.name, limit=1)  # type: ignore[union-attr]
        except Exception as exc:  # noqa: BLE001
            ctx.warn(f"log-streams-missing: {group.name}: {explain(exc, ctx.session.options)}")
            return None
        if answer.get("logStreams"):
            return None
        return _finding(ctx, playbook, group, "log_group", group.name,
                        f"log group {group.name} has no log streams: nothing has written to it")

    return [f for f in await bounded(groups, check) if f]


def _stores_bytes(group: Resource) -> bool:
    stored = group.attributes.get("storedBytes")
    return isinstance(stored, int) and stored > 0


# -- CloudWatch metrics -------------------------------------------------------------------


async def metrics_missing(ctx: ProbeContext, playbook: Playbook, params: dict[str, Any],
                          targets: dict[str, Target]) -> list[Finding]:
    metric = params.get("metric")
    if not metric:
        return []
    namespace = params.get("namespace") or {"function": "AWS/Lambda", "api": "AWS/ApiGateway",
                                            "table": "AWS/DynamoDB", "project": "AWS/CodeBuild"}.get(
        next(iter(targets), "function"), "AWS/Lambda")
    lookback = int(params.get("max_age_seconds") or METRICS_MISSING_LOOKBACK)
    period = 3600 if lookback >= 3600 else 60
    stat = params.get("stat") or "SampleCount"
    queries: dict[MetricQuery, Resource] = {}
    for kind, target in (targets or {"function": Target(every=True)}).items():
        resources, _ = select(ctx, kind, target)
        dimension = params.get("dimension") or next(
            (d for d, k in DIMENSION_KINDS.items() if k == kind), None)
        for resource in resources:
            value = dimension_value(resource, dimension) if dimension else None
            if value is None:
                continue
            queries[MetricQuery(namespace, metric, stat, ((dimension, value),), period, lookback)] = resource
    if not queries:
        return []
    fetcher = ctx.fetcher or MetricFetcher(ctx.session)
    series, warnings = await fetcher.fetch(queries)
    for warning in warnings:
        ctx.warn(warning)
    out = []
    for query, resource in queries.items():
        if query in series and not series[query].values:
            out.append(_finding(ctx, playbook, resource, resource.kind, resource.name,
                                f"no {namespace} {metric} datapoints for {resource.name} in the last "
                                f"{_ago(lookback)}"))
    return out


# -- Lambda -------------------------------------------------------------------------------


async def tracing_off(ctx: ProbeContext, playbook: Playbook, params: dict[str, Any],
                      targets: dict[str, Target]) -> list[Finding]:
    functions, _ = select(ctx, "function", targets.get("function"))
    return [_finding(ctx, playbook, fn, "function", fn.name,
                     f"function {fn.name} has X-Ray tracing {fn.attributes.get('TracingMode', 'PassThrough')} "
                     "(not Active)")
            for fn in functions if fn.attributes.get("TracingMode", "PassThrough") != "Active"]


async def env_var_missing(ctx: ProbeContext, playbook: Playbook, params: dict[str, Any],
                          targets: dict[str, Target]) -> list[Finding]:
    raw = params.get("variable") or params.get("variables") or []
    variables = [raw] if isinstance(raw, str) else [str(v) for v in raw]
    if not variables:
        return []
    functions, _ = select(ctx, "function", targets.get("function"))
    out = []
    for fn in functions:
        have = set(fn.attributes.get("EnvironmentVariables", []))
        for variable in variables:
            if variable not in have:
                out.append(_finding(ctx, playbook, fn, "function", fn.name,
                                    f"function {fn.name} has no environment variable {variable}",
                                    {"variable": variable}))
    return out


async def function_missing(ctx: ProbeContext, playbook: Playbook, params: dict[str, Any],
                           targets: dict[str, Target]) -> list[Finding]:
    return await _missing_by_name(ctx, playbook, targets.get("function"), "function", "lambda",
                                  "function",
                                  lambda c, name: c.get_function_configuration(FunctionName=name))


async def alarm_no_actions(ctx: ProbeContext, playbook: Playbook, params: dict[str, Any],
                           targets: dict[str, Target]) -> list[Finding]:
    alarms, _ = select(ctx, "alarm", targets.get("alarm"))
    out = []
    for alarm in alarms:
        attrs = alarm.attributes
        if not attrs.get("ActionsEnabled", True):
            out.append(_finding(ctx, playbook, alarm, "alarm", alarm.name,
                                f"alarm {alarm.name} has its actions disabled"))
        elif not attrs.get("AlarmActions"):
            out.append(_finding(ctx, playbook, alarm, "alarm", alarm.name,
                                f"alarm {alarm.name} has no alarm actions: it notifies no one"))
    return out


async def alarm_insufficient_data(ctx: ProbeContext, playbook: Playbook, params: dict[str, Any],
                                  targets: dict[str, Target]) -> list[Finding]:
    alarms, _ = select(ctx, "alarm", targets.get("alarm"))
    return [_finding(ctx, playbook, alarm, "alarm", alarm.name,
                     f"alarm {alarm.name} is in INSUFFICIENT_DATA"
                     + (f": {alarm.attributes['StateReason']}" if alarm.attributes.get("StateReason") else ""))
            for alarm in alarms if alarm.attributes.get("StateValue") == "INSUFFICIENT_DATA"]


# -- KMS, CloudFormation, CodeBuild -------------------------------------------------------


async def kms_key_disabled(ctx: ProbeContext, playbook: Playbook, params: dict[str, Any],
                           targets: dict[str, Target]) -> list[Finding]:
    keys, _ = select(ctx, "key", targets.get("key"))
    out = []
    for key in keys:
        state = key.attributes.get("KeyState")
        if state in BAD_KEY_STATES:
            when = f" (deletion on {key.attributes['DeletionDate']})" if key.attributes.get("DeletionDate") else ""
            out.append(_finding(ctx, playbook, key, "key", key.name,
                                f"KMS key {key.name} is {state}{when}",
                                {"key_id": str(key.attributes.get("KeyId", ""))}))
    return out


async def stack_failed(ctx: ProbeContext, playbook: Playbook, params: dict[str, Any],
                       targets: dict[str, Target]) -> list[Finding]:
    stacks, _ = select(ctx, "stack", targets.get("stack"))
    out = []
    for stack in stacks:
        status = str(stack.attributes.get("StackStatus", ""))
        if FAILED_STACK.search(status):
            reason = stack.attributes.get("StackStatusReason")
            out.append(_finding(ctx, playbook, stack, "stack", stack.name,
                                f"stack {stack.name} is {status}" + (f": {reason}" if reason else ""),
                                {"status": status}))
    return out


async def codebuild_project_missing(ctx: ProbeContext, playbook: Playbook, params: dict[str, Any],
                                    targets: dict[str, Target]) -> list[Finding]:
    target = targets.get("project")
    if target is None or target.every or _service_down(ctx, "codebuild"):
        return []
    _, absent = select(ctx, "project", target)
    absent = [n for n in absent if ctx.in_scope(n)]
    if not absent:
        return []
    client = await ctx.session.client("codebuild")
    try:
        answer = await client.batch_get_projects(names=absent[:100])
    except Exception as exc:  # noqa: BLE001
        ctx.warn(f"codebuild-project-missing: {explain(exc, ctx.session.options)}")
        return []
    # Real AWS lists unknown names in projectsNotFound; some endpoints just leave them out.
    found = {p.get("name") for p in answer.get("projects", [])}
    return [_finding(ctx, playbook, None, "project", name,
                     f"CodeBuild project {name} does not exist in this account and region")
            for name in absent[:100] if name not in found]


PROBES: dict[str, Probe] = {
    "sns-subscription-pending": sns_subscription_pending,
    "secret-missing": secret_missing,
    "secret-empty": secret_empty,
    "secret-invalid-json": secret_invalid_json,
    "lock-expired": lock_expired,
    "log-group-missing": log_group_missing,
    "log-streams-missing": log_streams_missing,
    "metrics-missing": metrics_missing,
    "tracing-off": tracing_off,
    "alarm-no-actions": alarm_no_actions,
    "alarm-insufficient-data": alarm_insufficient_data,
    "env-var-missing": env_var_missing,
    "kms-key-disabled": kms_key_disabled,
    "stack-failed": stack_failed,
    "codebuild-project-missing": codebuild_project_missing,
    "function-missing": function_missing,
}
assert set(PROBES) == set(PROBE_KINDS), "every probe kind needs an implementation"


async def run_probe(ctx: ProbeContext, playbook: Playbook, probe: ProbeSymptom) -> list[Finding]:
    """One probe symptom of one playbook; its failure is a warning, never an exception."""
    params, targets = resolve_params(playbook, probe)
    try:
        return await PROBES[probe.probe](ctx, playbook, params, targets)
    except Exception as exc:  # noqa: BLE001
        ctx.warn(f"probe {probe.probe} ({playbook.id}): {explain(exc, ctx.session.options)}")
        return []


async def run_probes(ctx: ProbeContext, catalog: Catalog) -> list[Finding]:
    """Every probe symptom of every playbook, concurrently; findings deduplicated."""
    jobs = [(playbook, probe) for playbook in catalog for probe in playbook.probe_symptoms]
    results = await asyncio.gather(*(run_probe(ctx, p, s) for p, s in jobs))
    seen: set[tuple[str, str, str]] = set()
    out = []
    for findings in results:
        for finding in findings:
            key = (finding.playbook, finding.resource, finding.evidence)
            if key not in seen:
                seen.add(key)
                out.append(finding)
    return out

