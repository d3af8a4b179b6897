"""IAM SimulatePrincipalPolicy inside the offline account (moto has none): the principal's
identity policies evaluated as AWS does, agreeing with the server's injected `deny` faults."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from warroom.demo.faults import refuses
from warroom.demo.wire import service_error

_PRINCIPAL_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):(user|role|group)(/(?:[\x21-\x7e]*/)?)([\w+=,.@-]+)")
_denied: Callable[[], list[str]] = list


def install() -> None:
    """Answer SimulatePrincipalPolicy from moto's IAM backend."""
    from moto.iam.responses import IamResponse

    IamResponse.simulate_principal_policy = _simulate_principal_policy  # type: ignore[attr-defined]


def follow_faults(denied: Callable[[], list[str]]) -> None:
    """Make the policy simulator read the server's injected `deny` list (see faults.FaultConfig)."""
    global _denied
    _denied = denied


@dataclass(frozen=True)
class SourcePolicy:
    """An identity policy of the simulated principal."""

    policy_id: str
    policy_type: str  # user | group | role | aws-managed | user-managed (botocore's PolicySourceType)
    document: dict[str, Any]


def _pattern(text: str, case_sensitive: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(regex, 0 if case_sensitive else re.IGNORECASE | re.DOTALL)


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document.get("Statement", [])
    return [found] if isinstance(found, dict) else [s for s in found if isinstance(s, dict)]


def _applies(statement: dict[str, Any], action: str, resource: str) -> bool:
    """Whether a statement covers an action and resource, by its Action/NotAction and Resource/NotResource."""
    if "Action" in statement:
        acts = any(_pattern(a, False).fullmatch(action) for a in _listed(statement["Action"]))
    else:
        acts = not any(_pattern(a, False).fullmatch(action) for a in _listed(statement.get("NotAction")))
    if not acts:
        return False
    if "Resource" in statement:
        return any(_pattern(r, True).fullmatch(resource) for r in _listed(statement["Resource"]))
    if "NotResource" in statement:
        return not any(_pattern(r, True).fullmatch(resource) for r in _listed(statement["NotResource"]))
    return False


def _condition_keys(statement: dict[str, Any]) -> list[str]:
    condition = statement.get("Condition") or {}
    return sorted({key for block in condition.values() if isinstance(block, dict) for key in block})


def _document(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    text = urllib.parse.unquote(raw) if isinstance(raw, str) and raw.startswith("%7B") else raw
    try:
        parsed = json.loads(text or "{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _own(entity: Any, kind: str) -> Iterator[SourcePolicy]:
    """A user's, group's or role's inline policies, then its managed ones."""
    for name, document in entity.policies.items():
        yield SourcePolicy(name, kind, _document(document))
    for arn, policy in entity.managed_policies.items():
        version = next((v for v in policy.versions if v.is_default), None)
        managed = "aws-managed" if ":iam::aws:policy/" in arn else "user-managed"
        yield SourcePolicy(policy.name, managed, _document(version.document if version else "{}"))


def principal_policies(backend: Any, arn: str) -> list[SourcePolicy]:
    """The identity policies of a user (with its groups'), role or group; raises NoSuchEntity or InvalidInput."""
    found = _PRINCIPAL_ARN.fullmatch(arn or "")
    if found is None:
        raise service_error("InvalidInput", f"Invalid ARN: {arn}")
    kind, name = found.group(2), found.group(4)
    if kind == "user":
        user = backend.users.get(name)
        if user is None or user.arn != arn:
            raise service_error("NoSuchEntity", f"The user with name {name} cannot be found.")
        policies = list(_own(user, "user"))
        for group in backend.get_groups_for_user(name):
            policies += _own(group, "group")
        return policies
    if kind == "role":
        role = next((r for r in backend.get_roles() if r.arn == arn), None)
        if role is None:
            raise service_error("NoSuchEntity", f"The role with name {name} cannot be found.")
        return list(_own(role, "role"))
    group = backend.groups.get(name)
    if group is None or group.arn != arn:
        raise service_error("NoSuchEntity", f"The group with name {name} cannot be found.")
    return list(_own(group, "group"))


def evaluate(policies: list[SourcePolicy], action: str, resource: str) -> dict[str, Any]:
    """One EvaluationResult: explicitDeny beats allowed beats implicitDeny.

    A statement with a Condition is not applied (no context values are evaluated); its keys are
    reported under MissingContextValues, as AWS reports keys the caller did not supply."""
    result: dict[str, Any] = {"EvalActionName": action, "EvalResourceName": resource,
                              "EvalDecision": "implicitDeny", "MatchedStatements": [],
                              "MissingContextValues": []}
    if refuses(_denied(), action):  # the injected denials refuse every caller: an explicit deny
        result["EvalDecision"] = "explicitDeny"
        return result
    allows: list[dict[str, Any]] = []
    denies: list[dict[str, Any]] = []
    missing: set[str] = set()
    for policy in policies:
        for statement in _statements(policy.document):
            if not _applies(statement, action, resource):
                continue
            keys = _condition_keys(statement)
            if keys:
                missing.update(keys)
                continue
            matched = {"SourcePolicyId": policy.policy_id, "SourcePolicyType": policy.policy_type}
            (denies if statement.get("Effect") == "Deny" else allows).append(matched)
    result["MissingContextValues"] = sorted(missing)
    if denies:
        result.update(EvalDecision="explicitDeny", MatchedStatements=denies)
    elif allows:
        result.update(EvalDecision="allowed", MatchedStatements=allows)
    return result


def _simulate_principal_policy(self: Any) -> Any:
    """IAM SimulatePrincipalPolicy over the principal's identity policies, one result per action and resource."""
    from moto.core.responses import ActionResult

    arn = self._get_param("PolicySourceArn")
    actions = self._get_param("ActionNames") or []
    resources = self._get_param("ResourceArns") or ["*"]
    limit = int(self._get_param("MaxItems") or 100)
    marker = self._get_param("Marker")
    if not actions:
        raise service_error("InvalidInput", "ActionNames must contain at least one action")
    policies = principal_policies(self.backend, arn)
    extra = [SourcePolicy(f"PolicyInputList.{i + 1}", "none", _document(d))
             for i, d in enumerate(self._get_param("PolicyInputList") or [])]
    results = [evaluate(policies + extra, action, resource) for action in actions for resource in resources]
    offset = int(marker) if marker and str(marker).isdigit() else 0
    page = results[offset:offset + limit]
    answer: dict[str, Any] = {"EvaluationResults": page, "IsTruncated": offset + limit < len(results)}
    if answer["IsTruncated"]:
        answer["Marker"] = str(offset + limit)
    return ActionResult(answer)
