"""The runner: a playbook's diagnose steps, then its fix steps one confirmed step at a time."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from typing import Any

import jmespath
import jmespath.exceptions

from warroom.aws.permissions import check_calls
from warroom.aws.session import AwsSession, error_code
from warroom.incident.audit import AuditLog
from warroom.playbook.model import Playbook, Step
from warroom.playbook.types import misfit
from warroom.runner.events import (
    Edit, Phase, Progress, RunResult, StepError, StepPlan, StepResult)
from warroom.runner.inputs import CWD_INPUT, ask, ask_directory, parameter_input
from warroom.runner.masking import Masker
from warroom.runner.plans import Built, Where, build, referenced, render_or_none, unfilled
from warroom.runner.prompter import Prompter
from warroom.runner.send import Sender, clip, step_fields, strip_metadata
from warroom.runner.shell import resolve_cwd

PERMISSIONS_WAIT = 5.0   # seconds the first confirm waits for the permission check's verdict


class Aborted(Exception):
    """The run ends here; a Prompter may raise it from any question (closed input, quit)."""

    def __init__(self, result: StepResult | None = None, reason: str = "stopped at a prompt") -> None:
        super().__init__(reason)
        self.result = result  # the failed step the user aborted at, if any
        self.reason = reason


class _Declined(Exception):
    """The user cancelled a step's input: the step is skipped."""


class Runner:
    """Runs one playbook through a Prompter. No printing, no UI: front ends listen and answer.

    `values` are what is already known (a finding's captures, `--param`s); `explicit` names
    those the user gave on purpose; `resource` is the selected resource, given to the first
    parameter that takes one. A wizard calls `refuse_read_only`, `diagnose` and `fix` (or
    `run` for all three) and can show `plans()` at any time. With `ask=False` nothing is
    asked (the console's guidance, runner/diagnose.py): a parameter nothing gave takes its
    default, as in a dry run, and a diagnose step still lacking a value answers "needs".
    """

    def __init__(self, playbook: Playbook, prompter: Prompter, session: AwsSession, *,
                 values: Mapping[str, Any] | None = None, explicit: set[str] | None = None,
                 resource: str | None = None, resource_kind: str = "",
                 read_only: bool = False, dry_run: bool = False, ask: bool = True,
                 audit: AuditLog | None = None, poll_interval: float = 1.0) -> None:
        self.playbook = playbook
        self.prompter = prompter
        self.session = session
        self.read_only = read_only
        self.dry_run = dry_run
        self.ask = ask
        self.audit = audit if not dry_run else None
        self.masker = Masker()
        self.secret_names: set[str] = set()
        self.values: dict[str, Any] = {p.name: None for p in playbook.params}
        self.values.update(values or {})
        self.explicit = set(explicit or ())
        target = playbook.resource_param(resource_kind) if resource else None
        if target is not None and self.values.get(target.name) is None:
            self.values[target.name] = resource
            self.explicit.add(target.name)
        for step in (*playbook.diagnose, *playbook.fix):
            for item in step.inputs:
                if item.secret:
                    self.secret_names.add(item.name)
                    if self.values.get(item.name) is not None:
                        self.masker.add(self.values[item.name])
        self.run_id = uuid.uuid4().hex[:12]
        self.identity: dict[str, str] = {}
        options = session.options
        self.where = Where(region=options.region or session.region, profile=options.profile,
                           endpoint_url=options.endpoint_url)
        self._refused = False
        self._started = False
        self._permissions: asyncio.Task[list[str]] | None = None
        self._permissions_waited = False
        self.aborted = False
        self.stop_reason = ""
        self.sender = Sender(session, self.where, self.masker, self._emit, self._audit, poll_interval)

    # -- the whole run ------------------------------------------------------------------

    async def run(self) -> RunResult:
        result = RunResult(self.playbook.id)
        await self.refuse_read_only()
        try:
            try:
                await self.start()
                result.diagnose = await self.diagnose()
            except Aborted as stop:
                self._stopped(stop.reason)
            else:
                result.fix = await self.fix()
        except (asyncio.CancelledError, KeyboardInterrupt):  # Ctrl-C, or the console quit
            self._stopped("interrupted")
            raise
        result.aborted = self.aborted
        if result.aborted:
            await self._emit("aborted", None,
                             f"stopped ({self.stop_reason}): the remaining steps were not run")
        # Steps never reached count as not run, so a front end can list every step.
        done = {r.plan.number for r in result.fix}
        for number, step in enumerate(self.playbook.fix, 1):
            if number not in done:
                result.fix.append(StepResult(self.preview("fix", number, step), "not_run", chosen=False))
        result.fix.sort(key=lambda r: r.plan.number)
        return result

    def plans(self) -> list[StepPlan]:
        """Previews of every step with what is known now (`<name>` for what is not)."""
        return [self.preview("diagnose", n, s) for n, s in enumerate(self.playbook.diagnose, 1)] + [
            self.preview("fix", n, s) for n, s in enumerate(self.playbook.fix, 1)]

    def preview(self, phase: Phase, number: int, step: Step) -> StepPlan:
        # A value that does not fit its parameter is refused, so it is not shown as planned.
        values = {k: (None if self.value_problem(k, v) else v) for k, v in self.values.items()}
        for item in step.inputs:
            if values.get(item.name) is None and item.default is not None and not item.secret:
                values[item.name] = render_or_none(item.default, self.values)
        return self._build(phase, number, step, values, lenient=True).plan

    async def refuse_read_only(self) -> list[StepPlan]:
        """In read-only mode, announce every mutating fix step as refused; before any prompt."""
        refused: list[StepPlan] = []
        if not self.read_only or self._refused:
            return refused
        self._refused = True
        for number, step in enumerate(self.playbook.fix, 1):
            if step.mutating:
                plan = self.preview("fix", number, step)
                refused.append(plan)
                await self._emit("refused", plan, "read-only: this step would change something; not run")
        return refused

    async def start(self) -> None:
        """Fill the playbook's parameters (asking for what is missing) and learn who we are."""
        if self._started:
            return
        self._started = True
        for name, value in list(self.values.items()):
            problem = self.value_problem(name, value)
            if problem is None:
                continue
            if name in self.explicit:  # the user's own --param or resource: nothing to guess
                raise Aborted(reason=f"refused {problem}")
            # A log line's capture: not used, and asked for below like any unknown value.
            self.values[name] = None
            await self._emit("note", None, f"refused {problem} (from a log line; not used)")
        for param in unfilled(self.playbook, self.values):
            if self.dry_run or not self.ask:  # a default, when the catalog has one (the demo's)
                self.values[param.name] = param.default
                continue
            value = await ask(self.prompter, self.masker, parameter_input(param.name, param), param.default)
            if value is None:
                raise Aborted
            self.values[param.name] = value
        if self.dry_run:
            return
        if self.audit is not None:
            self.identity = await self.session.identity()
            self._audit("session", read_only=self.read_only,
                        values=self.masker.value({k: v for k, v in self._shown_values().items()
                                                  if k in self.explicit}))

    # -- diagnose -----------------------------------------------------------------------

    async def diagnose(self) -> list[StepResult]:
        """Run the read-only steps without asking; what they capture feeds the fix steps."""
        await self.start()
        results = []
        for number, step in enumerate(self.playbook.diagnose, 1):
            results.append(await self._diagnose_step(number, step))
        return results

    async def _diagnose_step(self, number: int, step: Step) -> StepResult:
        if self.dry_run:
            plan = self.preview("diagnose", number, step)
            await self._emit("planned", plan)
            return StepResult(plan, "planned")
        needs = () if self.ask else tuple(n for n in referenced(step, text=False) if self.values.get(n) is None)
        if needs:
            plan = self.preview("diagnose", number, step)
            await self._emit("skipped", plan, "needs " + ", ".join(needs))
            return StepResult(plan, "needs", needs=needs)
        try:
            await self._fill_missing(step)
        except _Declined:
            plan = self.preview("diagnose", number, step)
            await self._emit("skipped", plan, "no value given")
            return StepResult(plan, "skipped")
        if step.kind == "manual":
            plan = self._build("diagnose", number, step, self.values).plan
            return await self._manual(plan) if self.ask else StepResult(plan, "skipped")
        built = self._build("diagnose", number, step, self.values)
        plan = built.plan
        if plan.problems:
            error = StepError("validate", "; ".join(plan.problems))
            await self._emit("failed", plan, error.message)
            return StepResult(plan, "failed", error)
        try:
            response = await self.sender.call(step.call or "", built.params)
        except Exception as exc:  # noqa: BLE001 - shown in plain words
            error = StepError("call", self.sender.explain(exc), error_code(exc))
            await self._emit("failed", plan, error.message)
            self._audit("diagnose", **step_fields(plan), status="failed", error=error.message)
            return StepResult(plan, "failed", error)
        response = strip_metadata(response)
        # Learn the response's secrets first: a capture of what is not shown is masked too.
        self.masker.value(response)
        shown = {path: _search(path, response) for path in step.show} if step.show else response
        captured = {}
        refused = []
        for name, path in step.capture.items():
            value = _search(path, response)
            problem = self.value_problem(name, value)
            if problem:
                refused.append(problem)  # left unknown: a step that needs it asks
                continue
            self.values[name] = captured[name] = value
        shown, captured = self.masker.value(shown), self.masker.value(captured)
        await self._emit("diagnosed", plan, data={"shown": shown, "captured": captured})
        for problem in refused:
            await self._emit("note", plan, f"capture refused: {problem}")
        self._audit("diagnose", **step_fields(plan), status="done", shown=clip(shown))
        return StepResult(plan, "done", result=shown)

    # -- fix ----------------------------------------------------------------------------

    async def fix(self) -> list[StepResult]:
        """The fix steps in order, up to the end or to an abort (then `self.aborted` is set)."""
        results: list[StepResult] = []
        try:
            await self.start()
        except Aborted as stop:
            self._stopped(stop.reason)
            return results
        # Asked alongside the first questions; awaited (briefly) before the first confirm.
        if not (self.dry_run or self.read_only):
            self._permissions = asyncio.create_task(self.check_permissions())
        try:
            for number, step in enumerate(self.playbook.fix, 1):
                try:
                    results.append(await self._fix_step(number, step))
                except Aborted as stop:
                    outcome = stop.result or StepResult(self.preview("fix", number, step), "aborted",
                                                        chosen=False)
                    results.append(outcome)
                    self._stopped(stop.reason, outcome.plan)
                    break
        finally:
            if self._permissions is not None:
                self._permissions.cancel()
                self._permissions = None
        return results

    async def check_permissions(self) -> list[str]:
        """Say which IAM actions of the fix's calls this identity may not make, when that can
        be known (IAM simulation, or a read tried as it is); returns them. Never in the way:
        an answer that cannot be had is no answer."""
        calls = [(call, render_or_none(params, self.values))
                 for step in self.playbook.fix if step.kind == "call" and step.call
                 for call, params in ((step.call, step.params),
                                      *([(step.verify.call, step.verify.params)] if step.verify else []))]
        try:
            verdicts = await check_calls(self.session, calls) if calls else []
        except Exception:  # noqa: BLE001 - no verdict: the steps say it themselves if denied
            return []
        denied = [v for v in verdicts if v.verdict == "denied"]
        if denied:
            how = "IAM policy simulation" if denied[0].how == "simulated" else "a read tried once"
            await self._emit("note", None, "this identity may not call "
                             + ", ".join(v.action.name for v in denied)
                             + f" ({how}): the steps that need it will fail")
        return [v.action.name for v in denied]

    def value_problem(self, name: str, value: Any) -> str | None:
        """Why a value does not fit the declared parameter `name` (one line), or None."""
        param = self.playbook.param(name)
        if param is None or value is None:
            return None
        problem = misfit(value, param.type, param.pattern)
        return f"{name}: {self.masker.text(problem)}" if problem else None

    def _stopped(self, reason: str, plan: StepPlan | None = None) -> None:
        """The run ends early: say why once, in the result and in the audit."""
        if self.stop_reason:
            return
        self.aborted, self.stop_reason = True, reason
        self._audit("aborted", **(step_fields(plan) if plan else {}), reason=reason)

    async def _fix_step(self, number: int, step: Step) -> StepResult:
        if self.dry_run:
            plan = self.preview("fix", number, step)
            await self._emit("planned", plan)
            return StepResult(plan, "planned")
        if self.read_only and step.mutating:
            plan = self.preview("fix", number, step)
            self._audit("refused", **step_fields(plan), reason="read-only")
            return StepResult(plan, "refused", chosen=False)
        if step.kind == "manual":
            try:
                await self._fill_missing(step, lenient=True)
            except _Declined:
                pass
            return await self._manual(self._build("fix", number, step, self.values, lenient=True).plan)
        preset = {i.name: self.values[i.name] for i in step.inputs
                  if i.name in self.explicit and self.values.get(i.name) is not None}
        if step.kind == "shell" and CWD_INPUT in self.explicit and self.values.get(CWD_INPUT):
            preset[CWD_INPUT] = self.values[CWD_INPUT]
        while True:
            try:
                built = await self._prepare("fix", number, step, preset)
            except _Declined:
                plan = self.preview("fix", number, step)
                self._audit("declined", **step_fields(plan))
                await self._emit("skipped", plan, "skipped: no value given")
                return StepResult(plan, "skipped")
            plan = built.plan
            if plan.problems:
                why = "; ".join(plan.problems) if plan.kind == "shell" else (
                    "the call would be rejected: " + "; ".join(plan.problems))
                outcome = StepResult(plan, "failed", StepError("validate", why))
            else:
                answer = await self._consent(plan)
                if isinstance(answer, Edit):
                    preset = {**preset, **answer.values}
                    for name, value in answer.values.items():
                        if name in {i.name for i in step.inputs} or name == CWD_INPUT:
                            continue
                        problem = self.value_problem(name, value)
                        if problem:
                            await self._emit("note", plan, f"edit refused: {problem}")
                        else:
                            self.values[name] = value
                    continue
                if not answer:
                    self._audit("declined", **step_fields(plan))
                    await self._emit("skipped", plan, "skipped: not confirmed")
                    return StepResult(plan, "skipped")
                outcome = await self.sender.send(built)
                if outcome.status == "done":
                    return outcome
            assert outcome.error is not None
            await self._emit("failed", plan, outcome.error.message)
            choice = await self.prompter.on_failure(plan, outcome.error)
            if choice == "retry":
                preset = {}
                continue
            if choice == "abort":
                outcome.chosen = False
                raise Aborted(outcome, "aborted after a failure")
            outcome.chosen = False
            return outcome

    async def _consent(self, plan: StepPlan) -> bool | Edit:
        if not plan.mutating:
            return True
        if self._permissions is not None and not self._permissions_waited:
            self._permissions_waited = True  # say what will be denied before the first yes
            await asyncio.wait([self._permissions], timeout=PERMISSIONS_WAIT)
        if plan.destructive:
            return await self.prompter.confirm_typed(plan, plan.confirm_name or "")
        return await self.prompter.confirm(plan)

    async def _prepare(self, phase: Phase, number: int, step: Step, preset: dict[str, Any]) -> Built:
        """Ask for what the step still needs, then build (and validate) its plan."""
        await self._fill_missing(step)
        values = dict(self.values)
        for item in step.inputs:
            default = None if item.secret else (
                self.values.get(item.name) if self.values.get(item.name) is not None
                else render_or_none(item.default, self.values))
            value = await ask(self.prompter, self.masker, item, default, preset.get(item.name))
            if value is None:
                raise _Declined
            self.values[item.name] = values[item.name] = value
        cwd = None
        if step.kind == "shell":
            refused = self._build(phase, number, step, values)
            if refused.plan.problems:  # no directory to ask for: the command will not run
                return refused
            start = str(resolve_cwd(render_or_none(step.cwd, self.values) if step.cwd else None))
            cwd = await ask_directory(self.prompter, start, preset.get(CWD_INPUT))
            if cwd is None:
                raise _Declined
        return self._build(phase, number, step, values, cwd=cwd)

    async def _manual(self, plan: StepPlan) -> StepResult:
        done = await self.prompter.mark_manual_done(plan)
        self._audit("manual", **step_fields(plan), status="done" if done else "skipped")
        await self._emit("done" if done else "skipped", plan, "marked done" if done else "not marked done")
        return StepResult(plan, "done" if done else "skipped")

    # -- helpers ------------------------------------------------------------------------

    async def _fill_missing(self, step: Step, lenient: bool = False) -> None:
        """Ask for every value the step names that nothing has provided (a capture not seen)."""
        for name in referenced(step, text=False):
            if self.values.get(name) is not None or lenient:
                continue
            param = self.playbook.param(name)
            default = param.default if param else None
            value = await ask(self.prompter, self.masker, parameter_input(name, param), default)
            if value is None:
                raise _Declined
            self.values[name] = value

    def _build(self, phase: Phase, number: int, step: Step, values: Mapping[str, Any], *,
               lenient: bool = False, cwd: str | None = None) -> Built:
        return build(phase, number, step, values, self.secret_names, self.masker, self.where,
                     lenient=lenient, cwd=cwd)

    async def _emit(self, kind: str, plan: StepPlan | None, message: str = "",
                    data: dict[str, Any] | None = None) -> None:
        await self.prompter.on_progress(Progress(kind, plan, message, data or {}))  # type: ignore[arg-type]

    def _shown_values(self) -> dict[str, Any]:
        return {k: ("********" if k in self.secret_names and v is not None else v)
                for k, v in self.values.items()}

    def _audit(self, kind: str, **fields: Any) -> None:
        if self.audit is None:
            return
        self.audit.append(kind, run=self.run_id, playbook=self.playbook.id,
                          region=self.where.region, caller=self.identity.get("Arn"),
                          account=self.identity.get("Account"), **self.masker.value(fields))


def _search(path: str, response: Any) -> Any:
    try:
        return jmespath.search(path, response)
    except jmespath.exceptions.JMESPathError:
        return None
