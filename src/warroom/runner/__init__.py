"""Executing playbooks: diagnose, then fix steps through a confirm protocol (no UI here)."""

from warroom.runner.engine import Aborted, Runner
from warroom.runner.events import (
    Edit, Progress, RunResult, StepError, StepPlan, StepResult, VerifyPlan)
from warroom.runner.prompter import Prompter
from warroom.runner.watch import WatchResult, watch

__all__ = ["Aborted", "Edit", "Progress", "Prompter", "RunResult", "Runner", "StepError",
           "StepPlan", "StepResult", "VerifyPlan", "WatchResult", "watch"]
