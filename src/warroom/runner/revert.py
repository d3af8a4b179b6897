"""Putting a change back: a one-step playbook the Runner runs with its confirm, verify and audit.

Only where the API allows going back and the old state is known: Lambda configuration
fields, an alias's version, a secret's previous version made current again (by version
id: no value is read or shown), an SSM String parameter's previous value, an IAM managed
policy's previous default version. Every value goes in as a runner value behind a
placeholder, so nothing in it is read as a template, and the plan shows exactly what is set.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from warroom.incident.changes import Change
from warroom.playbook.model import Playbook, Step, Verify

# Lambda configuration fields a revert may set, with where GetFunctionConfiguration shows them.
LAMBDA_FIELDS = {"Timeout": "Timeout", "MemorySize": "MemorySize", "Runtime": "Runtime",
                 "Handler": "Handler", "Role": "Role", "Description": "Description",
                 "Layers": "Layers[].Arn", "TracingConfig": "TracingConfig"}
_VERSION_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
VERIFY_TIMEOUT = 60.0


@dataclass(frozen=True)
class Revert:
    """The playbook that puts `change` back and the values its step uses."""

    change: Change
    playbook: Playbook
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def what(self) -> str:
        return self.playbook.fix[0].title


def plan(change: Change) -> Revert | None:
    """How to put `change` back, or None when it cannot be (unknown old state, no API for it)."""
    for planner in PLANNERS:
        step_values = planner(change)
        if step_values is not None:
            step, values = step_values
            book = Playbook(
                id="revert", title=f"Revert: {change.event} on {change.resource}", service=step.service or "aws",
                severity="high", sources=(), cause=f"{change.event} on {change.resource}"
                + (f" by {change.actor}" if change.actor else "") + (f": {change.summary}" if change.summary else ""),
                prevention="", symptoms=(), fix=(step,))
            return Revert(change, book, values)
    return None


Planned = tuple[Step, dict[str, Any]] | None


def _lambda_configuration(change: Change) -> Planned:
    if change.resource_type != "function" or not change.event.startswith("UpdateFunctionConfiguration"):
        return None
    fields = {k: v for k, v in (change.before or {}).items() if k in LAMBDA_FIELDS}
    if not fields:
        return None
    values: dict[str, Any] = {"function": change.resource}
    params: dict[str, Any] = {"FunctionName": "{function}"}
    expect: dict[str, Any] = {}
    for name, value in fields.items():
        values[f"old_{name}"] = value
        params[name] = f"{{old_{name}}}"
        expect[LAMBDA_FIELDS[name]] = f"{{old_{name}}}"
    after = change.after or {}
    words = ", ".join(f"{k} {_text(after.get(k, '?'))} -> {_text(v)}" for k, v in fields.items())
    return Step(
        title=f"Put back {words} on {change.resource}", kind="call",
        description=f"Set {', '.join(f'{k} = {_text(v)}' for k, v in fields.items())} on {change.resource}, "
                    f"as before {change.event}" + (f" by {change.actor}" if change.actor else "") + ".",
        call="lambda.update_function_configuration", params=params,
        verify=Verify("lambda.get_function_configuration", {"FunctionName": "{function}"}, expect,
                      VERIFY_TIMEOUT)), values


def _alias(change: Change) -> Planned:
    before = change.before or {}
    if change.event != "UpdateAlias" or not before.get("Name") or not before.get("FunctionVersion"):
        return None
    values = {"function": change.resource, "alias": before["Name"], "old_version": str(before["FunctionVersion"])}
    params = {"FunctionName": "{function}", "Name": "{alias}"}
    return Step(
        title=f"Point alias {before['Name']} of {change.resource} back at version {before['FunctionVersion']}",
        kind="call", description=f"Set FunctionVersion = {before['FunctionVersion']} on alias {before['Name']}.",
        call="lambda.update_alias", params={**params, "FunctionVersion": "{old_version}"},
        verify=Verify("lambda.get_alias", params, {"FunctionVersion": "{old_version}"}, VERIFY_TIMEOUT)), values


def _secret(change: Change) -> Planned:
    old = (change.before or {}).get("AWSCURRENT")
    new = (change.after or {}).get("AWSCURRENT")
    if change.resource_type != "secret" or not old or not new:
        return None
    if not (_VERSION_ID.fullmatch(str(old)) and _VERSION_ID.fullmatch(str(new))):
        return None  # ids go into a JMESPath expression below: only what AWS issues
    values = {"secret": change.resource, "old_version": old, "new_version": new}
    return Step(
        title=f"Make version {old} of {change.resource} AWSCURRENT again", kind="call",
        description=f"Move the AWSCURRENT stage of {change.resource} from version {new} back to version "
                    f"{old} (the previous value; it is not read or shown).",
        call="secretsmanager.update_secret_version_stage",
        params={"SecretId": "{secret}", "VersionStage": "AWSCURRENT", "MoveToVersionId": "{old_version}",
                "RemoveFromVersionId": "{new_version}"},
        verify=Verify("secretsmanager.describe_secret", {"SecretId": "{secret}"},
                      {f"contains(VersionIdsToStages.\"{old}\", 'AWSCURRENT')": True}, VERIFY_TIMEOUT)), values


def _parameter(change: Change) -> Planned:
    before = change.before or {}
    if change.resource_type != "parameter" or "Value" not in before or before.get("Type") == "SecureString":
        return None
    values = {"parameter": change.resource, "old_value": before["Value"],
              "type": before.get("Type") or "String"}
    return Step(
        title=f"Put back version {before.get('Version', '?')} of {change.resource}", kind="call",
        description=f"Set {change.resource} to {_text(before['Value'])} again (as version "
                    f"{before.get('Version', '?')}).",
        call="ssm.put_parameter",
        params={"Name": "{parameter}", "Value": "{old_value}", "Type": "{type}", "Overwrite": True},
        verify=Verify("ssm.get_parameter", {"Name": "{parameter}"}, {"Parameter.Value": "{old_value}"},
                      VERIFY_TIMEOUT)), values


def _policy(change: Change) -> Planned:
    before = change.before or {}
    if change.resource_type != "policy" or not before.get("PolicyArn") or not before.get("DefaultVersionId"):
        return None
    values = {"policy_arn": before["PolicyArn"], "old_version": before["DefaultVersionId"]}
    return Step(
        title=f"Make {before['DefaultVersionId']} the default version of {change.resource} again",
        kind="call", description=f"Set the default version of {before['PolicyArn']} to "
                                 f"{before['DefaultVersionId']}.",
        call="iam.set_default_policy_version", params={"PolicyArn": "{policy_arn}", "VersionId": "{old_version}"},
        verify=Verify("iam.get_policy", {"PolicyArn": "{policy_arn}"},
                      {"Policy.DefaultVersionId": "{old_version}"}, VERIFY_TIMEOUT)), values


PLANNERS: tuple[Callable[[Change], Planned], ...] = (_lambda_configuration, _alias, _secret, _parameter, _policy)


def _text(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."
