"""Running a playbook's diagnose steps read-only, for the guidance pane.

Only AWS calls whose operation only reads are run (the same rule the runner applies);
shell and manual steps are shown, never run here. Results name what was wrong in plain
words instead of raising.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from warroom.aws.session import AwsSession, explain
from warroom.playbook.model import Playbook, Step
from warroom.playbook.template import MissingParameter, render
from warroom.redact import redact_value


@dataclass
class StepResult:
    title: str
    status: str                      # "ok", "error", "skipped", "needs"
    lines: list[str] = field(default_factory=list)


def params_for(playbook: Playbook, captures: Mapping[str, str], resource: str,
               kind: str = "") -> dict[str, Any]:
    """Captured values, then the resource for the parameter of its kind."""
    values: dict[str, Any] = dict(captures)
    target = playbook.resource_param(kind) if resource else None
    if target is not None and target.name not in values:
        values[target.name] = resource
    return values


def _pick(response: Mapping[str, Any], path: str) -> Any:
    import jmespath

    try:
        return jmespath.search(path, response)
    except Exception:  # noqa: BLE001 - a bad expression shows as missing
        return None


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        text = json.dumps(redact_value(value), default=str, ensure_ascii=False)
    else:
        text = str(redact_value(value) if isinstance(value, str) else value)
    return text if len(text) <= 160 else text[:159] + "…"


async def run_step(session: AwsSession, step: Step, values: dict[str, Any]) -> StepResult:
    if step.kind != "call":
        return StepResult(step.title, "skipped",
                          [f"$ {step.shell}" if step.kind == "shell" else (step.manual or "")])
    if step.mutating:
        return StepResult(step.title, "skipped", ["not read-only: left to the fix wizard"])
    try:
        params = render(step.params, values)
    except MissingParameter as exc:
        return StepResult(step.title, "needs", [str(exc)])
    service, operation = step.service or "", step.operation or ""
    try:
        client = await session.client(service)
        response = await getattr(client, operation)(**params)
    except Exception as exc:  # noqa: BLE001 - shown in the pane, never raised
        return StepResult(step.title, "error", [explain(exc, session.options)])
    response = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    shown = step.show or tuple(response)[:6]
    lines = [f"{name} = {_show(_pick(response, name))}" for name in shown]
    for name, path in step.capture.items():
        found = _pick(response, path)
        if found is not None:
            values[name] = found
    return StepResult(step.title, "ok", lines)


async def run_diagnose(session: AwsSession, playbook: Playbook,
                       values: dict[str, Any]) -> list[StepResult]:
    """Every diagnose step in order; captures feed later steps."""
    values = dict(values)
    return [await run_step(session, step, values) for step in playbook.diagnose]
