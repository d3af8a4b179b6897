"""Building a StepPlan from a step and the values known so far (no prompting, no AWS calls)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from warroom.aws.service_model import operation_model
from warroom.playbook.model import Param, Playbook, Step
from warroom.playbook.template import MissingParameter, UnsafeShell, names_in, render, render_shell
from warroom.runner import validate
from warroom.runner.cli_equivalent import aws_cli
from warroom.runner.events import Phase, StepPlan, VerifyPlan
from warroom.runner.masking import MASK, Masker


class Lenient(Mapping[str, Any]):
    """Values in which a missing name renders as `<name>` (and is remembered), for previews."""

    def __init__(self, base: Mapping[str, Any]) -> None:
        self.base = base
        self.missing: list[str] = []

    def __getitem__(self, key: str) -> Any:
        value = self.base.get(key)
        if value is None:
            if key not in self.missing:
                self.missing.append(key)
            return f"<{key}>"
        return value

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self.base)

    def __len__(self) -> int:
        return len(self.base)


@dataclass
class Where:
    """Where the calls go, for the CLI equivalent."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None


@dataclass
class Built:
    plan: StepPlan
    params: dict[str, Any] = field(default_factory=dict)     # the real call parameters
    verify_params: dict[str, Any] = field(default_factory=dict)
    verify_expect: dict[str, Any] = field(default_factory=dict)


def referenced(step: Step, *, text: bool = True) -> list[str]:
    """Names a step uses, in order of first use (its own inputs excluded).

    With `text=False`, only the names it cannot run without (call, command, verify,
    confirm name): a title or description shows `<name>` for a value nothing provided.
    """
    own = {i.name for i in step.inputs}
    parts: list[Any] = [step.params, step.shell, step.cwd, step.confirm_name]
    if text:
        parts += [step.title, step.description, step.manual, step.commands]
    if step.verify is not None:
        parts += [step.verify.params, step.verify.expect]
    seen: list[str] = []
    for name in names_in(parts):
        if name not in own and name not in seen:
            seen.append(name)
    return seen


def unfilled(playbook: Playbook, values: Mapping[str, Any]) -> list[Param]:
    """The parameters some step cannot run without that have no value yet, in declared order."""
    needed = {n for s in (*playbook.diagnose, *playbook.fix) for n in referenced(s, text=False)}
    return [p for p in playbook.params if p.name in needed and values.get(p.name) is None]


def build(phase: Phase, number: int, step: Step, values: Mapping[str, Any], secret_names: set[str],
          masker: Masker, where: Where, *, lenient: bool = False, cwd: str | None = None) -> Built:
    """The plan of `step` with `values`; lenient plans show `<name>` for what is not known yet."""
    real: Mapping[str, Any] = Lenient(values) if lenient else values
    shown_base = {k: (MASK if k in secret_names and v is not None else v) for k, v in values.items()}
    shown: Mapping[str, Any] = Lenient(shown_base) if lenient else shown_base

    def both(template: Any) -> tuple[Any, Any]:
        try:
            return render(template, real), masker.value(render(template, shown), keys=False)
        except ValueError:
            if not lenient:  # a `$merge` over something that is not a mapping
                raise
            return template, masker.value(template)  # a preview with an unknown `$merge` part

    def text(template: str) -> str:
        # Words shown to the user never block a step: an unknown value reads `<name>`.
        return str(masker.value(render(template, shown if lenient else Lenient(shown_base))))

    title = text(step.title)
    description = text(step.description) if step.description else ""
    problems: list[str] = []
    built = Built(plan=None)  # type: ignore[arg-type]
    plan_fields: dict[str, Any] = {}
    if step.kind == "call" and step.call:
        service, operation = step.call.split(".", 1)
        before = len(real.missing) if isinstance(real, Lenient) else 0
        params, shown_params = both(step.params)
        params = validate.coerce_to_model(service, operation, params)
        shown_params = validate.coerce_to_model(service, operation, shown_params)
        # A preview validates the parameters once they are all known (a description may not be).
        if not (isinstance(real, Lenient) and len(real.missing) > before):
            problems += validate.problems(service, operation, params)
        op = operation_model(service, operation)
        plan_fields.update(
            call=step.call, api=op.name if op is not None else None, params=shown_params,
            cli=aws_cli(service, operation, shown_params, region=where.region,
                        profile=where.profile, endpoint_url=where.endpoint_url))
        built.params = params
    elif step.kind == "shell" and step.shell:
        # The plan's command is the one that runs: shown, confirmed and audited as it is.
        plan_fields["shell"], refusal = shell_command(step.shell, real, secret_names, masker)
        if refusal is not None:
            problems.append(refusal)
        plan_fields["cwd"] = cwd if cwd is not None else (both(step.cwd)[1] if step.cwd else ".")
    if step.kind == "manual" or step.manual:
        plan_fields["manual"] = text(step.manual) if step.manual else ""
    if step.commands:
        plan_fields["commands"] = tuple(text(c) for c in step.commands)
    if step.verify is not None:
        before = len(real.missing) if isinstance(real, Lenient) else 0
        v_params, v_shown = both(step.verify.params)
        v_expect, v_expect_shown = both(step.verify.expect)
        v_service, v_operation = step.verify.call.split(".", 1)
        built.verify_params = validate.coerce_to_model(v_service, v_operation, v_params)
        built.verify_expect = v_expect
        plan_fields["verify"] = VerifyPlan(step.verify.call, v_shown, v_expect_shown, step.verify.timeout)
        if not (isinstance(real, Lenient) and len(real.missing) > before):
            problems += [f"verify: {p}" for p in validate.problems(v_service, v_operation,
                                                                   built.verify_params)]
    if step.confirm_name:
        # Never a secret: the user has to read it to type it.
        plan_fields["confirm_name"] = str(render(step.confirm_name, real))
        plan_fields["confirm_from"] = tuple(names_in(step.confirm_name))
    built.plan = StepPlan(
        phase=phase, number=number, step=step, title=str(title), description=str(description),
        kind=step.kind, mutating=step.mutating, destructive=step.destructive,
        problems=tuple(problems),
        unresolved=tuple(dict.fromkeys([*real.missing, *shown.missing]))
        if isinstance(real, Lenient) and isinstance(shown, Lenient) else (), **plan_fields)
    return built


def shell_command(template: str, values: Mapping[str, Any], secret_names: set[str],
                  masker: Masker) -> tuple[str, str | None]:
    """The command to run, values shell-quoted, and why it must not run (or None).

    A command is shown, confirmed and audited exactly as it runs, so one that masking would
    alter (a secret input, a token shape in a value) is refused rather than shown masked.
    """
    secrets = [n for n in names_in(template) if n in secret_names]
    if secrets:
        return template, (f"refused: {{{secrets[0]}}} is a secret, and a shell command is shown "
                          "exactly as it runs; use a call step for secrets")
    try:
        command = render_shell(template, values)
    except UnsafeShell as exc:
        return template, f"refused: {exc}"
    if masker.text(command) != command:
        return template, ("refused: a value in this command looks like a secret and would be shown "
                          "masked, but a shell command is shown exactly as it runs")
    return command, None


def render_or_none(template: Any, values: Mapping[str, Any]) -> Any:
    """A default that may name other values (`default: '{current_timeout}'`); None when unknown."""
    try:
        return render(template, values)
    except (MissingParameter, ValueError):
        return None
