"""What the runner hands to front ends: step plans, progress events and results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from warroom.playbook.model import Step

Phase = Literal["diagnose", "fix"]
# "needs": a diagnose step run without anyone to ask lacks a value (StepResult.needs).
Status = Literal["done", "skipped", "failed", "aborted", "refused", "not_run", "planned", "needs"]
FailureChoice = Literal["retry", "skip", "abort"]

# Progress kinds, in the order a step usually emits them.
ProgressKind = Literal[
    "refused",       # read-only: a mutating step will not run (sent before any prompt)
    "planned",       # dry run: the plan of a step that is not executed
    "executing",     # a call or shell command is about to run
    "output",        # one line of shell output
    "result",        # a call answered (data["result"], masked)
    "diagnosed",     # a diagnose step answered (data["shown"], data["captured"])
    "verifying",     # one verify poll (data["attempt"], data["observed"])
    "done",
    "failed",
    "skipped",
    "aborted",
    "note",          # anything else worth a line
]


@dataclass(frozen=True, slots=True)
class VerifyPlan:
    call: str
    params: dict[str, Any]        # masked, for display
    expect: dict[str, Any]        # JMESPath expression -> expected value (masked)
    timeout: float


@dataclass(frozen=True, slots=True)
class StepPlan:
    """Everything a front end shows about one step before it runs. Secrets are masked."""

    phase: Phase
    number: int                           # 1-based within the phase
    step: Step
    title: str
    description: str
    kind: Literal["call", "shell", "manual"]
    mutating: bool
    destructive: bool
    call: str | None = None               # service.operation, e.g. lambda.update_function_configuration
    api: str | None = None                # the API operation name, e.g. UpdateFunctionConfiguration
    params: dict[str, Any] = field(default_factory=dict)
    cli: str | None = None                # the equivalent AWS CLI command, ready to copy
    shell: str | None = None
    cwd: str | None = None
    manual: str | None = None
    commands: tuple[str, ...] = ()
    verify: VerifyPlan | None = None
    confirm_name: str | None = None       # what the user must type for a destructive step
    confirm_from: tuple[str, ...] = ()    # the parameters confirm_name is made of
    problems: tuple[str, ...] = ()        # validation problems; a plan with problems never runs
    unresolved: tuple[str, ...] = ()      # dry run: parameters with no value yet

    @property
    def label(self) -> str:
        return f"{self.phase} {self.number}. {self.title}"


@dataclass(frozen=True, slots=True)
class StepError:
    """Why a step failed, in plain words."""

    phase: Literal["validate", "call", "verify", "shell", "input"]
    message: str
    code: str | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    kind: ProgressKind
    plan: StepPlan | None = None
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Edit:
    """A confirm answer that changes values (inputs, params) and asks to plan the step again."""

    values: dict[str, Any]


@dataclass(slots=True)
class StepResult:
    plan: StepPlan
    status: Status
    error: StepError | None = None
    result: Any = None                    # masked response or exit status
    verified: bool | None = None          # None when the step has no verify
    chosen: bool = True                   # False when a skip was not the user's choice
    needs: tuple[str, ...] = ()           # "needs": the parameters the step lacks


@dataclass(slots=True)
class RunResult:
    playbook: str
    diagnose: list[StepResult] = field(default_factory=list)
    fix: list[StepResult] = field(default_factory=list)
    aborted: bool = False

    @property
    def ok(self) -> bool:
        """True when every fix step is done or was skipped by the user's choice."""
        return not self.aborted and all(
            r.status == "done" or (r.status == "skipped" and r.chosen) for r in self.fix)
