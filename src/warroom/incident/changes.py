"""Changes to a stack (who changed what, when, from what to what) and the suspects for a finding.

Pure domain code: the AWS adapters (`aws/changes.py`) fetch CloudTrail events and the
services' own version metadata and hand them here as plain dicts. Secret values never
reach this module: CloudTrail hides them and the adapters read metadata only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
WINDOW_S = 2 * 3600          # suspects: changes this long before a symptom first appeared
SUMMARY_PARTS = 6            # fields named in a summary; the rest are in `after`
MERGE_S = 10.0               # a service's own record of a change within this of a CloudTrail event is that event

# CloudTrail resource types -> the kinds warroom names resources by.
KINDS = {
    "AWS::Lambda::Function": "function", "AWS::IAM::Role": "role", "AWS::IAM::Policy": "policy",
    "AWS::IAM::User": "user", "AWS::SecretsManager::Secret": "secret", "AWS::SSM::Parameter": "parameter",
    "AWS::CloudFormation::Stack": "stack", "AWS::DynamoDB::Table": "table",
    "AWS::CodeBuild::Project": "project", "AWS::KMS::Key": "key", "AWS::ApiGatewayV2::Api": "api",
    "AWS::SNS::Topic": "topic", "AWS::Logs::LogGroup": "log_group", "AWS::S3::Bucket": "bucket",
    "AWS::CloudWatch::Alarm": "alarm",
}
# Request parameters that only name the resource: not part of what changed.
_IDENTIFIERS = {"functionName", "roleName", "policyName", "secretId", "name", "stackName", "tableName",
                "apiId", "keyId", "topicArn", "userName", "policyArn", "logGroupName", "bucket",
                "clientRequestToken", "revisionId", "qualifier"}
# Events whose old values only an earlier CloudTrail event knows (other services keep versions).
BEFORE_FROM_TRAIL = frozenset({"UpdateFunctionConfiguration", "UpdateAlias", "PutRolePolicy",
                               "PutUserPolicy", "PutFunctionConcurrency"})
# What AWS sets when a create call leaves a field out (so a later change has a known "before").
CREATE_DEFAULTS: dict[str, dict[str, Any]] = {
    "CreateFunction": {"Timeout": 3, "MemorySize": 128, "TracingConfig": {"Mode": "PassThrough"}}}
# Lambda's CloudTrail event names carry the API version: UpdateFunctionConfiguration20150331v2.
_VERSION_SUFFIX = re.compile(r"\d{8}(?:v\d+)?$")


@dataclass(frozen=True, slots=True)
class Change:
    """One change: when, from which source, what, on which resource, by whom, from what to what."""

    time: float                    # epoch seconds
    source: str                    # cloudtrail, cloudformation, codebuild, lambda, secretsmanager, ssm, iam
    event: str                     # UpdateFunctionConfiguration, UPDATE_ROLLBACK_COMPLETE, build FAILED, ...
    resource: str
    resource_type: str = ""        # function, role, secret, parameter, policy, stack, project, ...
    actor: str = ""
    summary: str = ""
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"time": iso(self.time), "source": self.source, "event": self.event,
                "resource": self.resource, "resource_type": self.resource_type, "actor": self.actor,
                "summary": self.summary, "before": self.before, "after": self.after}


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_name(name: str) -> str:
    """The operation behind a CloudTrail event name (Lambda's carry a version suffix)."""
    return _VERSION_SUFFIX.sub("", name)


def actor(identity: Mapping[str, Any]) -> str:
    """Who, shortened: an IAM user's name, role/session for an assumed role, a service's name."""
    kind = identity.get("type")
    arn = str(identity.get("arn", ""))
    if kind == "IAMUser":
        return str(identity.get("userName") or arn.rsplit("/", 1)[-1])
    if kind == "AssumedRole":
        parts = arn.split("/")
        return "/".join(parts[-2:]) if len(parts) >= 3 else arn
    if kind == "AWSService":
        return str(identity.get("invokedBy", "")).removesuffix(".amazonaws.com")
    if kind == "Root":
        return "root"
    return arn.rsplit("/", 1)[-1] or str(kind or "?")


# -- CloudTrail ---------------------------------------------------------------------------

def from_cloudtrail(events: Iterable[Mapping[str, Any]]) -> list[Change]:
    """Changes from LookupEvents results (any order); before/after from earlier events where known."""
    parsed = sorted((_parse(e) for e in events), key=lambda p: p["time"])
    known: dict[tuple[str, ...], dict[str, Any]] = {}   # what the trail last set, per resource part
    changes = []
    for p in parsed:
        name, params = p["event"], p["params"]
        after = {_upper(k): _visible(v) for k, v in params.items()
                 if k not in _IDENTIFIERS and v != HIDDEN and _visible(v) not in ({}, [])}
        hidden = sorted(_upper(k) for k, v in params.items() if v == HIDDEN or _has_hidden(v))
        key: tuple[str, ...] = (p["resource_type"], p["resource"])
        if name in ("PutRolePolicy", "PutUserPolicy"):
            key += (str(params.get("policyName", "")),)
            after = {"PolicyName": params.get("policyName"),
                     "Allowed": sorted(_allowed(params.get("policyDocument")))}
        elif name in ("CreateAlias", "UpdateAlias"):
            key += ("alias", str(params.get("name", "")))
            after = {k: v for k, v in {"Name": params.get("name"),
                                       "FunctionVersion": params.get("functionVersion")}.items() if v}
        previous = known.get(key, {})
        before = {k: previous[k] for k in after if k in previous and k not in ("PolicyName", "Name")}
        if before and name.startswith(("Update", "Put")):
            for label in ("PolicyName", "Name"):
                if label in after:
                    before[label] = after[label]
        known[key] = {**CREATE_DEFAULTS.get(name, {}), **previous, **after}
        if name.startswith("Create"):
            before = {}
        changes.append(Change(
            time=p["time"], source="cloudtrail", event=name, resource=p["resource"],
            resource_type=p["kind"], actor=p["actor"],
            summary="created" if name.startswith("Create") and "Allowed" not in after
            else _summary(before, after, hidden),
            before=before or None, after=_shown_after(before, after) or None))
    return changes


def _parse(event: Mapping[str, Any]) -> dict[str, Any]:
    try:
        record = json.loads(event.get("CloudTrailEvent") or "{}")
    except ValueError:
        record = {}
    resources = event.get("Resources") or []
    first = resources[0] if resources else {}
    when = event.get("EventTime")
    time = when.timestamp() if isinstance(when, datetime) else float(when or 0)
    kind_type = str(first.get("ResourceType", ""))
    return {"time": time, "event": event_name(str(event.get("EventName", ""))),
            "resource": str(first.get("ResourceName", "")), "resource_type": kind_type,
            "kind": KINDS.get(kind_type, kind_type), "params": record.get("requestParameters") or {},
            "actor": actor(record.get("userIdentity") or {}) if record else str(event.get("Username", ""))}


def _upper(name: str) -> str:
    return name[:1].upper() + name[1:]


def _visible(value: Any) -> Any:
    """A value with every hidden part left out."""
    if isinstance(value, dict):
        return {k: _visible(v) for k, v in value.items() if v != HIDDEN and not _has_hidden_only(v)}
    return value


def _has_hidden_only(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(
        v == HIDDEN or _has_hidden_only(v) for v in value.values())


def _has_hidden(value: Any) -> bool:
    if isinstance(value, dict):
        return any(v == HIDDEN or _has_hidden(v) for v in value.values())
    return False


def _allowed(document: Any) -> set[str]:
    """The actions a policy document allows."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return set()
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    allowed: set[str] = set()
    for statement in statements if isinstance(statements, list) else [statements]:
        if isinstance(statement, dict) and statement.get("Effect") == "Allow":
            actions = statement.get("Action", [])
            allowed.update(actions if isinstance(actions, list) else [actions])
    return allowed


def _shown_after(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    if before:  # only the fields whose old value is known, and those that changed
        return {k: v for k, v in after.items() if k in before or k in ("PolicyName", "Name")}
    return after


def _summary(before: dict[str, Any], after: dict[str, Any], hidden: list[str]) -> str:
    parts: list[str] = []
    if "Allowed" in after:
        if "Allowed" in before:
            removed = sorted(set(before["Allowed"]) - set(after["Allowed"]))
            added = sorted(set(after["Allowed"]) - set(before["Allowed"]))
            parts += [f"removed {', '.join(removed)}"] if removed else []
            parts += [f"added {', '.join(added)}"] if added else []
        parts = parts or [f"policy {after.get('PolicyName')} allows {', '.join(after['Allowed']) or 'nothing'}"]
    else:
        for key, value in after.items():
            if key in before and before[key] != value:
                parts.append(f"{key} {_short(before[key])} -> {_short(value)}")
            elif key not in before and not isinstance(value, (dict, list)) or key == "FunctionVersion":
                parts.append(f"{key} {_short(value)}")
            elif key not in before:
                parts.append(f"{key} set")
    parts += [f"{h} changed (value hidden)" for h in hidden]
    return "; ".join(parts[:SUMMARY_PARTS]) + ("; ..." if len(parts) > SUMMARY_PARTS else "")


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- the services' own version records ------------------------------------------------------

def from_secret_versions(secret: str, versions: Sequence[Mapping[str, Any]]) -> list[Change]:
    """A change per secret version (ListSecretVersionIds entries: VersionId, VersionStages, CreatedDate).

    Metadata only: the version ids and their stages, never a value.
    """
    ordered = sorted(versions, key=lambda v: _epoch(v.get("CreatedDate")))
    changes = []
    for previous, version in zip([None, *ordered], ordered):
        stages = list(version.get("VersionStages") or [])
        before = after = None
        if previous is not None and "AWSCURRENT" in stages and "AWSPREVIOUS" in (previous.get("VersionStages") or []):
            before = {"AWSCURRENT": previous["VersionId"]}
            after = {"AWSCURRENT": version["VersionId"]}
        summary = f"new version {str(version.get('VersionId', ''))[:8]}" + (
            f" ({', '.join(stages)})" if stages else "") + "; value not shown"
        changes.append(Change(_epoch(version.get("CreatedDate")), "secretsmanager",
                              "CreateSecret" if previous is None else "PutSecretValue",
                              secret, "secret", "", summary, before, after))
    return changes


def from_parameter_history(history: Sequence[Mapping[str, Any]]) -> list[Change]:
    """A change per SSM parameter version (GetParameterHistory entries); SecureString values omitted."""
    ordered = sorted(history, key=lambda h: int(h.get("Version", 0)))
    changes = []
    for previous, version in zip([None, *ordered], ordered):
        secure = version.get("Type") == "SecureString"
        after: dict[str, Any] = {"Version": version.get("Version"), "Type": version.get("Type")}
        before: dict[str, Any] | None = None
        if not secure:
            after["Value"] = version.get("Value")
        if previous is not None:
            before = {"Version": previous.get("Version"), "Type": previous.get("Type")}
            if not secure and previous.get("Type") != "SecureString":
                before["Value"] = previous.get("Value")
        summary = (f"version {version.get('Version')}" + (" (SecureString; value not shown)" if secure else
                   f": {_short(before.get('Value'))} -> {_short(after.get('Value'))}" if before else ""))
        changes.append(Change(_epoch(version.get("LastModifiedDate")), "ssm",
                              "PutParameter", str(version.get("Name", "")), "parameter",
                              _user(version.get("LastModifiedUser")), summary, before, after))
    return changes


def from_policy_versions(policy_arn: str, versions: Sequence[Mapping[str, Any]]) -> list[Change]:
    """A change per IAM managed policy version (ListPolicyVersions entries)."""
    ordered = sorted(versions, key=lambda v: _epoch(v.get("CreateDate")))
    name = policy_arn.rsplit("/", 1)[-1]
    changes = []
    for previous, version in zip([None, *ordered], ordered):
        before = after = None
        if previous is not None and version.get("IsDefaultVersion"):
            before = {"PolicyArn": policy_arn, "DefaultVersionId": previous["VersionId"]}
            after = {"PolicyArn": policy_arn, "DefaultVersionId": version["VersionId"]}
        summary = f"version {version.get('VersionId')}" + (" (default)" if version.get("IsDefaultVersion") else "")
        changes.append(Change(_epoch(version.get("CreateDate")), "iam", "CreatePolicyVersion", name,
                              "policy", "", summary, before, after))
    return changes


def from_stack_events(stack: str, events: Sequence[Mapping[str, Any]]) -> list[Change]:
    """Stack-level status changes and resource failures (DescribeStackEvents entries)."""
    changes = []
    for e in events:
        status = str(e.get("ResourceStatus", ""))
        whole = e.get("LogicalResourceId") == stack
        if not whole and not status.endswith("FAILED"):
            continue
        target = stack if whole else f"{stack}/{e.get('LogicalResourceId')}"
        changes.append(Change(_epoch(e.get("Timestamp")), "cloudformation", status, target, "stack",
                              "", str(e.get("ResourceStatusReason") or "")))
    return changes


def from_builds(builds: Sequence[Mapping[str, Any]]) -> list[Change]:
    """CodeBuild builds (BatchGetBuilds entries) as changes: a deploy pipeline's runs are changes."""
    return [Change(_epoch(b.get("startTime")), "codebuild", f"build {b.get('buildStatus', '?')}",
                   str(b.get("projectName", "")), "project", _user(b.get("initiator")),
                   f"{b.get('sourceVersion', '')} #{b.get('buildNumber', '?')}".strip())
            for b in builds]


def from_function_versions(function: str, versions: Sequence[Mapping[str, Any]]) -> list[Change]:
    """Published Lambda versions (ListVersionsByFunction entries, $LATEST left out)."""
    return [Change(_epoch(v.get("LastModified")), "lambda", "PublishVersion", function, "function", "",
                   f"version {v.get('Version')}" + (f": {v['Description']}" if v.get("Description") else ""))
            for v in versions if v.get("Version") not in (None, "$LATEST")]


def _user(value: Any) -> str:
    text = str(value or "")
    return text.rsplit("/", 1)[-1] if text.startswith("arn:") else text


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    if not value:
        return 0.0
    text = str(value).replace("Z", "+00:00")
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)  # Lambda's 2024-05-01T10:00:00.000+0000
    return datetime.fromisoformat(text).timestamp()


# -- one timeline ---------------------------------------------------------------------------

def merge(changes: Iterable[Change]) -> list[Change]:
    """One timeline, oldest first: a service's record of a change CloudTrail also saw joins that event.

    The CloudTrail event keeps its actor and name; the service's before/after win when
    the service knows them (a secret's version ids, a parameter's old value).
    """
    ordered = sorted(changes, key=lambda c: c.time)
    trail = [c for c in ordered if c.source == "cloudtrail"]
    out: list[Change] = []
    joined: dict[int, Change] = {}
    for change in ordered:
        if change.source == "cloudtrail":
            continue
        twins = [t for t in trail if t.resource == change.resource and t.event == change.event
                 and abs(t.time - change.time) <= MERGE_S and id(t) not in joined]
        twin = min(twins, key=lambda t: abs(t.time - change.time), default=None)
        if twin is None:
            out.append(change)
            continue
        known = change.before is not None
        joined[id(twin)] = replace(
            twin, before=change.before if known else twin.before, after=change.after if known else twin.after,
            summary=_join(twin.summary, change.summary), actor=twin.actor or change.actor)
    out += [joined.get(id(t), t) for t in trail]
    return sorted(out, key=lambda c: c.time)


def _join(a: str, b: str) -> str:
    return "; ".join(p for p in (a, b) if p)


def select(changes: Iterable[Change], since: float | None = None, until: float | None = None,
           resources: Iterable[str] = ()) -> list[Change]:
    """The changes in a time range, on any of `resources` (all when empty)."""
    names = set(resources)
    return [c for c in changes if (since is None or c.time >= since) and (until is None or c.time <= until)
            and (not names or c.resource in names or c.resource.split("/", 1)[0] in names)]


# -- suspects -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Suspect:
    """A change that may have caused a finding: how it relates and how long before it came."""

    change: Change
    relation: str          # "same resource", or what the dependency is ("its role", "its secret")
    lead_s: float          # seconds between the change and the symptom's first appearance

    @property
    def direct(self) -> bool:
        return self.relation == "same resource"

    def describe(self) -> str:
        """`10:13 UpdateFunctionConfiguration by deployer: Timeout 60 -> 30, 1 min before ...`."""
        change = self.change
        clock = datetime.fromtimestamp(change.time, timezone.utc).strftime("%H:%M")
        who = f" by {change.actor}" if change.actor else ""
        where = "" if self.direct else f" on {self.relation} {change.resource}"
        what = f": {change.summary}" if change.summary else ""
        return f"{clock} {change.event}{where}{who}{what}, {ago(self.lead_s)} before the first symptom"


def ago(seconds: float) -> str:
    if seconds < 60:
        return f"{int(seconds)} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    return f"{seconds / 3600:.1f} h"


def suspects(resource: str, first_seen: float, changes: Iterable[Change],
             dependencies: Mapping[str, str] | None = None, window_s: float = WINDOW_S) -> list[Suspect]:
    """Changes on `resource` or its dependencies (name -> relation) in the window before `first_seen`.

    Ranked by relation (the resource itself first, then a dependency) and then by
    closeness in time; builds and stack events of the same name count as the resource.
    """
    dependencies = dict(dependencies or {})
    found = []
    for change in changes:
        lead = first_seen - change.time
        if not 0 <= lead <= window_s:
            continue
        base = change.resource.split("/", 1)[0]
        if change.resource == resource or base == resource:
            found.append(Suspect(change, "same resource", lead))
        elif change.resource in dependencies or base in dependencies:
            found.append(Suspect(change, dependencies.get(change.resource) or dependencies[base], lead))
    return sorted(found, key=lambda s: (not s.direct, s.lead_s))


def function_dependencies(config: Mapping[str, Any], known: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """A function's role, layers, and the secrets, parameters and tables its environment names.

    `known` maps resource names and ARNs to (kind, name); an environment value counts only
    when it names one of them exactly, so no other value is kept.
    """
    found: dict[str, str] = {}
    role = str(config.get("Role", ""))
    if role:
        found[role.rsplit("/", 1)[-1]] = "its role"
    for layer in config.get("Layers") or []:
        arn = str(layer.get("Arn", "") if isinstance(layer, Mapping) else layer)
        if arn:
            found[arn.split(":")[6] if arn.count(":") >= 6 else arn] = "its layer"
    variables = (config.get("Environment") or {}).get("Variables") or {}
    for value in variables.values():
        if str(value) in known:
            kind, name = known[str(value)]
            found[name] = f"its {kind}"
    return found
