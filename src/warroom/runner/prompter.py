"""The confirm protocol: what a front end (Textual modal, line prompt, script) implements."""

from __future__ import annotations

from typing import Any, Protocol

from warroom.playbook.model import Input
from warroom.runner.events import Edit, FailureChoice, Progress, StepError, StepPlan


class Prompter(Protocol):
    """Answers the runner's questions. Every method may take as long as the user needs.

    The runner never prints: everything the user should see arrives in `on_progress` or as
    the plan passed to a question. Plans, events and errors are already masked.
    """

    async def ask_input(self, spec: Input, default: Any, problem: str | None = None) -> Any:
        """A value for `spec` (raw text is fine; the runner converts and checks it).

        `problem` says why the previous answer was refused. Return None to cancel: for a
        step's input the step is skipped; for a playbook parameter the run is aborted.
        `spec.secret` means: do not echo, do not keep.
        """
        ...

    async def confirm(self, plan: StepPlan) -> bool | Edit:
        """y/N for a mutating step; an `Edit` changes values and the step is planned again."""
        ...

    async def confirm_typed(self, plan: StepPlan, expected: str) -> bool:
        """For a destructive step: True only if the user typed exactly `expected`."""
        ...

    async def on_progress(self, event: Progress) -> None: ...

    async def on_failure(self, plan: StepPlan, error: StepError) -> FailureChoice:
        """After a failed step: retry (plan, ask and run again), skip it, or abort the run."""
        ...

    async def mark_manual_done(self, plan: StepPlan) -> bool:
        """A manual step was shown; True when the user says it is done."""
        ...
