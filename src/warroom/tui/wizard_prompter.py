"""The runner's Prompter for the wizard: it answers the runner and tells its screen by messages.

Each question is a `Question` (a modal and a future for its answer), each progress event a
message of its own kind (`wizard_messages`); the prompter never calls the screen.
"""

from __future__ import annotations

import asyncio
from typing import Any

from textual.message import Message
from textual.message_pump import MessagePump

from warroom.playbook.model import Input
from warroom.runner.events import Edit, FailureChoice, Progress, StepError, StepPlan
from warroom.tui.confirm import AskModal, ConfirmModal, FailureModal, ManualModal, TypedModal
from warroom.tui.wizard_messages import (
    EditWanted, FailureChosen, Question, RunNote, progress_message)


class WizardPrompter:
    """Answers the runner from the wizard screen. Questions wait as long as the user needs."""

    def __init__(self) -> None:
        self.screen: MessagePump | None = None  # where messages go; the screen connects itself

    def connect(self, screen: MessagePump) -> None:
        self.screen = screen

    def _post(self, message: Message) -> None:
        if self.screen is not None:
            self.screen.post_message(message)

    async def _ask(self, modal: Any, plan: StepPlan | None, state: str, style: str = "") -> Any:
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._post(Question(modal, plan, state, answer, style))
        return await answer

    async def ask_input(self, spec: Input, default: Any, problem: str | None = None) -> Any:
        # None (esc) cancels: the runner skips the step.
        return await self._ask(lambda plan: AskModal(spec, default, problem, plan), None,
                               f"asking: {spec.prompt}")

    async def confirm(self, plan: StepPlan) -> bool | Edit:
        choice = await self._ask(lambda p: ConfirmModal(plan), plan,
                                 f"waiting for your y/N on {plan.phase} {plan.number}")
        if choice == "edit":
            answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._post(EditWanted(plan, answer))
            return Edit(await answer or {})
        return choice == "yes"

    async def confirm_typed(self, plan: StepPlan, expected: str) -> bool:
        typed = await self._ask(lambda p: TypedModal(plan, expected), plan,
                                f"waiting for the name to confirm {plan.phase} {plan.number}")
        if (typed or "").strip() == expected:
            return True
        self._post(RunNote("   the name does not match; not run", "yellow"))
        return False

    async def on_progress(self, event: Progress) -> None:
        message = progress_message(event)
        if message is not None:
            self._post(message)

    async def on_failure(self, plan: StepPlan, error: StepError) -> FailureChoice:
        choice: FailureChoice = await self._ask(
            lambda p: FailureModal(plan, error), plan,
            f"{plan.phase} {plan.number} failed: retry, skip or abort?", "bold red") or "abort"
        self._post(FailureChosen(plan, choice))
        return choice

    async def mark_manual_done(self, plan: StepPlan) -> bool:
        return bool(await self._ask(lambda p: ManualModal(plan), plan,
                                    f"manual step {plan.phase} {plan.number}: mark it done when it is"))
