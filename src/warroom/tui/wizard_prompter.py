"""The runner's Prompter for the wizard: each question is a modal, each event a line on screen."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual.screen import ModalScreen

from warroom.playbook.model import Input
from warroom.runner.engine import CWD_INPUT
from warroom.runner.events import Edit, FailureChoice, Progress, StepError, StepPlan
from warroom.runner.plans import referenced
from warroom.tui.confirm import (
    AskModal, ConfirmModal, EditModal, FailureModal, ManualModal, TypedModal)

if TYPE_CHECKING:
    from warroom.tui.wizard import WizardScreen


class WizardPrompter:
    """Answers the runner from the wizard screen. Questions wait as long as the user needs."""

    def __init__(self, screen: WizardScreen) -> None:
        self.screen = screen
        self.asking: ModalScreen[Any] | None = None   # the open question, for tests and esc

    async def _ask(self, modal: ModalScreen[Any]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def answered(value: Any) -> None:
            if not future.done():
                future.set_result(value)

        self.asking = modal
        self.screen.app.push_screen(modal, answered)
        try:
            return await future
        finally:
            self.asking = None

    async def ask_input(self, spec: Input, default: Any, problem: str | None = None) -> Any:
        plan = self.screen.current_preview()
        self.screen.set_state(f"asking: {spec.prompt}")
        answer = await self._ask(AskModal(spec, default, problem, plan))
        return answer  # None (esc) cancels: the runner skips the step

    async def confirm(self, plan: StepPlan) -> bool | Edit:
        self.screen.show_plan(plan)
        self.screen.set_state(f"waiting for your y/N on {plan.phase} {plan.number}")
        choice = await self._ask(ConfirmModal(plan))
        if choice == "edit":
            values = await self._ask(EditModal(plan, self._fields(plan)))
            return Edit(values or {})
        return choice == "yes"

    def _fields(self, plan: StepPlan) -> list[tuple[str, str, Any, bool]]:
        """What can be edited: the step's inputs, the parameters it uses, its directory."""
        runner = self.screen.runner
        values = runner.values if runner is not None else {}
        step = plan.step
        fields = [(i.name, i.prompt, None if i.secret else values.get(i.name), i.secret) for i in step.inputs]
        inputs = {i.name for i in step.inputs}
        playbook = self.screen.playbook
        for name in sorted(referenced(step, text=False)):
            param = playbook.param(name)
            if name not in inputs and param is not None:
                fields.append((name, param.description or name, values.get(name), False))
        if plan.kind == "shell":
            fields.append((CWD_INPUT, "Working directory", plan.cwd, False))
        return fields

    async def confirm_typed(self, plan: StepPlan, expected: str) -> bool:
        self.screen.show_plan(plan)
        self.screen.set_state(f"waiting for the name to confirm {plan.phase} {plan.number}")
        typed = await self._ask(TypedModal(plan, expected))
        if (typed or "").strip() == expected:
            return True
        self.screen.log_line("   the name does not match; not run", "yellow")
        return False

    async def on_progress(self, event: Progress) -> None:
        self.screen.on_runner_event(event)

    async def on_failure(self, plan: StepPlan, error: StepError) -> FailureChoice:
        self.screen.set_state(f"{plan.phase} {plan.number} failed: retry, skip or abort?", "bold red")
        choice: FailureChoice = await self._ask(FailureModal(plan, error)) or "abort"
        self.screen.after_failure(plan, choice)
        return choice

    async def mark_manual_done(self, plan: StepPlan) -> bool:
        self.screen.show_plan(plan)
        self.screen.set_state(f"manual step {plan.phase} {plan.number}: mark it done when it is")
        return bool(await self._ask(ManualModal(plan)))
