"""What the wizard's prompter tells its screen: one message per runner progress kind, and questions.

The prompter answers the runner and posts these; the screen alone decides how they look.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.message import Message
from textual.screen import ModalScreen

from warroom.runner.events import FailureChoice, Progress, StepPlan


@dataclass
class StepRefused(Message):
    """Read-only: a mutating step will not run (before any prompt)."""

    plan: StepPlan


@dataclass
class StepDiagnosed(Message):
    """A diagnose step answered; `shown` is what it found, masked."""

    plan: StepPlan
    shown: Any


@dataclass
class StepExecuting(Message):
    plan: StepPlan
    message: str


@dataclass
class StepOutput(Message):
    """One line of a shell step's output."""

    plan: StepPlan | None
    message: str


@dataclass
class StepAnswered(Message):
    """A call's masked response."""

    plan: StepPlan
    result: Any


@dataclass
class StepVerifying(Message):
    plan: StepPlan
    attempt: Any
    message: str


@dataclass
class StepDone(Message):
    plan: StepPlan
    message: str


@dataclass
class StepFailed(Message):
    plan: StepPlan
    message: str


@dataclass
class StepSkipped(Message):
    plan: StepPlan
    message: str


@dataclass
class RunAborted(Message):
    message: str


@dataclass
class RunNote(Message):
    """Anything else worth a line in the progress log."""

    message: str
    style: str = ""


@dataclass
class FailureChosen(Message):
    """The user answered a failed step: retry, skip or abort."""

    plan: StepPlan
    choice: FailureChoice


@dataclass
class Question(Message):
    """Show a modal and put its answer in `answer`.

    `modal` builds it from the step it is about; `plan` None means the first step not
    finished yet, which only the screen knows. `state` is the status line meanwhile.
    """

    modal: Callable[[StepPlan | None], ModalScreen[Any]]
    plan: StepPlan | None
    state: str
    answer: asyncio.Future[Any]
    state_style: str = ""


@dataclass
class EditWanted(Message):
    """The user chose `e` on a step: the screen asks for new values (it knows the current ones)."""

    plan: StepPlan
    answer: asyncio.Future[Any]


def progress_message(event: Progress) -> Message | None:
    """The message for one runner progress event (None for kinds the wizard does not show)."""
    plan, text = event.plan, event.message
    kind = event.kind
    if kind == "refused" and plan is not None:
        return StepRefused(plan)
    if kind == "diagnosed" and plan is not None:
        return StepDiagnosed(plan, event.data.get("shown"))
    if kind == "executing" and plan is not None:
        return StepExecuting(plan, text)
    if kind == "output":
        return StepOutput(plan, text)
    if kind == "result" and plan is not None:
        return StepAnswered(plan, event.data.get("result"))
    if kind == "verifying" and plan is not None:
        return StepVerifying(plan, event.data.get("attempt"), text)
    if kind == "done" and plan is not None:
        return StepDone(plan, text)
    if kind == "failed" and plan is not None:
        return StepFailed(plan, text)
    if kind == "skipped" and plan is not None:
        return StepSkipped(plan, text)
    if kind == "aborted":
        return RunAborted(text)
    if kind == "note":
        return RunNote(text)
    return None  # "planned": dry runs only
