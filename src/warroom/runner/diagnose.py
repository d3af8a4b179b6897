"""A playbook's diagnose steps with no one to ask, for the console's guidance pane.

The same Runner, steps, checks and masking as the fix wizard's diagnose; only nothing is
asked: a parameter nothing gave takes its default (`AWS/Lambda`), as in a dry run, and a
step that still lacks a value answers "needs" with the names it lacks (the fix wizard,
which asks, still offers them rather than assume them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from warroom.aws.session import AwsSession
from warroom.playbook.model import Input, Playbook
from warroom.runner.engine import Runner
from warroom.runner.events import Edit, FailureChoice, Progress, StepError, StepPlan, StepResult


def params_for(playbook: Playbook, captures: Mapping[str, str], resource: str,
               kind: str = "") -> dict[str, Any]:
    """Captured values, then the resource for the parameter of its kind."""
    values: dict[str, Any] = dict(captures)
    target = playbook.resource_param(kind) if resource else None
    if target is not None and target.name not in values:
        values[target.name] = resource
    return values


class _NoOne:
    """The Prompter of a run with `ask=False`: progress goes nowhere, every question is declined."""

    async def ask_input(self, spec: Input, default: Any, problem: str | None = None) -> Any:
        return None

    async def confirm(self, plan: StepPlan) -> bool | Edit:
        return False

    async def confirm_typed(self, plan: StepPlan, expected: str) -> bool:
        return False

    async def on_progress(self, event: Progress) -> None:
        return None

    async def on_failure(self, plan: StepPlan, error: StepError) -> FailureChoice:
        return "skip"

    async def mark_manual_done(self, plan: StepPlan) -> bool:
        return False


async def run_diagnose(session: AwsSession | None, playbook: Playbook,
                       values: Mapping[str, Any]) -> list[StepResult]:
    """Every diagnose step in order, read-only and unattended; captures feed later steps.

    Without a session every step is "skipped" with the reason as its error.
    """
    runner = Runner(playbook, _NoOne(), session or AwsSession(), values=values, ask=False)
    if session is None:
        return [StepResult(runner.preview("diagnose", n, step), "skipped", StepError("call", "no AWS session"))
                for n, step in enumerate(playbook.diagnose, 1)]
    return await runner.diagnose()
