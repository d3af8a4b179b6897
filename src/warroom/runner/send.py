"""Sending a confirmed fix step: its shell command or AWS call, then its verification.
Each send is audited before it leaves (intent) and when it is answered (outcome)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from warroom.aws.session import AwsSession, error_code, explain
from warroom.runner.events import StepError, StepPlan, StepResult
from warroom.runner.masking import Masker
from warroom.runner.plans import Built, Where
from warroom.runner.shell import aws_environment, resolve_cwd, run_shell
from warroom.runner.verify import VerifyOutcome, poll

_RESULT_LIMIT = 4000  # characters of a response kept in the audit trail


class Emit(Protocol):
    async def __call__(self, kind: str, plan: StepPlan | None, message: str = "",
                       data: dict[str, Any] | None = None) -> None: ...


@dataclass(frozen=True)
class Sender:
    """Sends what a run has built and the user confirmed; a run's one way to reach AWS or
    a shell. `audit(kind, **fields)` and `emit` are the run's own; every text it emits or
    audits goes through the run's masker."""

    session: AwsSession
    where: Where
    masker: Masker
    emit: Emit
    audit: Callable[..., None]
    poll_interval: float

    async def call(self, call: str, params: dict[str, Any]) -> Any:
        """`service.operation` with these parameters, through the run's session."""
        service, operation = call.split(".", 1)
        client = await self.session.client(service)
        return await getattr(client, operation)(**params)

    def explain(self, exc: BaseException) -> str:
        """A failed call in plain words, masked."""
        return self.masker.text(explain(exc, self.session.options))

    async def send(self, built: Built) -> StepResult:
        """Run the step, then verify it when it says how."""
        plan = built.plan
        await self._await_credentials(plan)
        outcome = await (self._shell(plan) if plan.kind == "shell" else self._call(built))
        if outcome.status != "done":
            return outcome
        if plan.verify is None:
            await self.emit("done", plan, "done")
            return outcome
        verified = await self._verify(built)
        message = self.masker.text(verified.describe(built.verify_expect))
        self.audit("verify", **step_fields(plan), status="ok" if verified.ok else "failed", verify=message,
                   attempts=verified.attempts)
        if not verified.ok:
            return StepResult(plan, "failed", StepError("verify", message), result=outcome.result, verified=False)
        await self.emit("done", plan, message)
        return StepResult(plan, "done", result=outcome.result, verified=True)

    async def _shell(self, plan: StepPlan) -> StepResult:
        fields = step_fields(plan)
        self.audit("intent", **fields, shell=plan.shell, cwd=plan.cwd)
        await self.emit("executing", plan, f"$ {plan.shell}   (in {plan.cwd})")

        async def line(text: str) -> None:
            await self.emit("output", plan, self.masker.text(text))

        try:
            status = await run_shell(plan.shell or "", resolve_cwd(plan.cwd), line,
                                     aws_environment(self.where.profile, self.where.region,
                                                     self.where.endpoint_url))
        except OSError as exc:
            error = StepError("shell", f"could not run the command: {exc}")
            self.audit("outcome", **fields, status="failed", error=error.message)
            return StepResult(plan, "failed", error)
        self.audit("outcome", **fields, status="ok" if status == 0 else "failed", exit_status=status)
        if status != 0:
            return StepResult(plan, "failed", StepError("shell", f"the command exited with status {status}"),
                              result={"exit_status": status})
        return StepResult(plan, "done", result={"exit_status": status})

    async def _call(self, built: Built) -> StepResult:
        plan = built.plan
        fields = step_fields(plan)
        self.audit("intent", **fields, params=plan.params, cli=plan.cli, destructive=plan.destructive)
        await self.emit("executing", plan, plan.cli or "")
        try:
            response = await self.call(plan.call or "", built.params)
        except Exception as exc:  # noqa: BLE001 - shown in plain words and audited
            error = StepError("call", self.explain(exc), error_code(exc))
            self.audit("outcome", **fields, status="failed", error=error.message, code=error.code)
            return StepResult(plan, "failed", error)
        result = self.masker.value(strip_metadata(response))
        self.audit("outcome", **fields, status="ok", result=clip(result))
        await self.emit("result", plan, data={"result": result})
        return StepResult(plan, "done", result=result)

    async def _await_credentials(self, plan: StepPlan) -> None:
        """A change is never sent with credentials known to be expired: say so, wait for new ones."""
        watch = self.session.credentials
        if not watch.known_expired:
            return
        await self.emit("note", plan, f"paused before {plan.phase} {plan.number}: {watch.state.line}; "
                                      "the step is sent once they work again")
        self.audit("paused", **step_fields(plan), reason=watch.state.reason)
        await watch.wait_until_valid()
        await self.emit("note", plan, f"{watch.state.line}: sending {plan.phase} {plan.number}")

    async def _verify(self, built: Built) -> VerifyOutcome:
        plan = built.plan
        assert plan.verify is not None

        async def fetch() -> Any:
            return await self.call(plan.verify.call, built.verify_params)  # type: ignore[union-attr]

        async def attempt(n: int, observed: dict[str, Any], error: str | None) -> None:
            await self.emit("verifying", plan, self.masker.text(error or "waiting for the expected state"),
                            data={"attempt": n, "observed": self.masker.value(observed)})

        return await poll(fetch, built.verify_expect, timeout=plan.verify.timeout,
                          interval=self.poll_interval, on_attempt=attempt, explain=self.explain)


def step_fields(plan: StepPlan) -> dict[str, Any]:
    """The audit fields that name a step."""
    fields: dict[str, Any] = {"phase": plan.phase, "step_number": plan.number, "step": plan.title}
    if plan.call:
        fields["call"] = plan.call
    return fields


def strip_metadata(response: Any) -> Any:
    """A response without botocore's ResponseMetadata."""
    if isinstance(response, dict):
        return {k: v for k, v in response.items() if k != "ResponseMetadata"}
    return response


def clip(value: Any) -> Any:
    """A response small enough for one audit line; a long one is cut and says so."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) <= _RESULT_LIMIT:
        return json.loads(text)
    return {"truncated": text[:_RESULT_LIMIT] + "..."}
