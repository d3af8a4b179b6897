"""A step plan as Rich text: what it does in plain words, the exact call, the CLI to copy."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text

from warroom.runner.events import StepPlan
from warroom.tui.lines import plain


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def flag(plan: StepPlan) -> str:
    """A short word on what kind of step this is."""
    if plan.destructive:
        return "destructive"
    if plan.kind == "shell":
        return "runs a command"
    if plan.kind == "manual":
        return "manual"
    return "changes AWS" if plan.mutating else "read-only"


def plan_text(plan: StepPlan, *, heading: bool = True) -> Text:
    """Everything shown about one step before it runs (plans arrive with secrets masked)."""
    t = Text(end="")
    if heading:
        t.append(f"{plan.phase.capitalize()} {plan.number}. ", "bold")
        t.append(plain(plan.title), "bold")
        t.append(f"  ({flag(plan)})\n", "bold red" if plan.destructive else "dim")
    if plan.description:
        t.append(plain(" ".join(plan.description.split())) + "\n")
    if plan.call:
        t.append("Call    ", "bold").append(plain(plan.call))
        if plan.api:
            t.append(f"  ({plain(plan.api)})", "dim")
        t.append("\n")
        for key, value in plan.params.items():
            t.append(f"  {plain(str(key))}", "cyan").append(" = " + plain(_json(value)) + "\n")
        if plan.cli:
            t.append("CLI     ", "bold").append(plain(plan.cli) + "\n", "italic")
    if plan.shell is not None:
        t.append("$ ", "bold").append(plain(plan.shell) + "\n", "italic")
        t.append("in      ", "bold").append(plain(plan.cwd or ".") + "\n")
    if plan.manual:
        t.append(plain(" ".join(plan.manual.split())) + "\n")
    for command in plan.commands:
        t.append("$ ", "bold").append(plain(command) + "\n", "italic")
    if plan.verify is not None:
        expect = ", ".join(f"{k} = {_json(v)}" for k, v in plan.verify.expect.items())
        t.append("Verify  ", "bold").append(
            f"{plain(plan.verify.call)} until {plain(expect)} (up to {plan.verify.timeout:g} s)\n", "dim")
    if plan.unresolved:
        t.append("Needs   ", "bold").append(", ".join(plan.unresolved) + " (asked when it runs)\n", "dim")
    for problem in plan.problems:
        t.append("Problem ", "bold red").append(plain(problem) + "\n", "red")
    t.rstrip()
    return t


def copy_text(plan: StepPlan) -> str:
    """What `c` copies: the CLI equivalent, the shell command or the manual commands."""
    if plan.cli:
        return plan.cli
    if plan.shell:
        return plan.shell
    return "\n".join(plan.commands)
