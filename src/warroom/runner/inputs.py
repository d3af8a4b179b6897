"""Turning what a user typed into a typed, checked input value."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from warroom.playbook.model import Input, Param
from warroom.playbook.types import TYPES, misfit
from warroom.runner.shell import resolve_cwd

if TYPE_CHECKING:
    from warroom.runner.masking import Masker
    from warroom.runner.prompter import Prompter

ASK_LIMIT = 10    # refused answers in a row before an input counts as cancelled
CWD_INPUT = "cwd"  # the input name under which a shell step's directory is asked

_TRUE = {"y", "yes", "true", "1", "on"}
_FALSE = {"n", "no", "false", "0", "off"}


class BadInput(ValueError):
    """The answer does not fit the input; the message says why, in plain words."""


def coerce(spec: Input, raw: Any) -> Any:
    """The value of `raw` as `spec.type`, within its bounds, choices and pattern."""
    if isinstance(raw, str):
        raw = raw.strip()
    if raw is None or raw == "":
        raise BadInput("a value is required")
    kind = spec.type
    value: Any
    if kind == "int":
        try:
            value = int(raw) if not isinstance(raw, bool) else None
        except (TypeError, ValueError):
            value = None
        if value is None:
            raise BadInput(f"'{raw}' is not a whole number")
    elif kind == "float":
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise BadInput(f"'{raw}' is not a number") from None
    elif kind == "bool":
        if isinstance(raw, bool):
            value = raw
        elif str(raw).lower() in _TRUE | _FALSE:
            value = str(raw).lower() in _TRUE
        else:
            raise BadInput(f"'{raw}' is not yes or no")
    else:
        value = str(raw)
    if kind in ("int", "float"):
        if spec.min is not None and value < spec.min:
            raise BadInput(f"{value} is below the minimum {spec.min:g}")
        if spec.max is not None and value > spec.max:
            raise BadInput(f"{value} is above the maximum {spec.max:g}")
    if kind == "choice" and value not in spec.choices:
        raise BadInput(f"'{value}' is not one of: {', '.join(spec.choices)}")
    problem = misfit(value, kind if kind in TYPES else None, spec.pattern, secret=spec.secret)
    if problem:
        raise BadInput(problem)
    return value


def parameter_input(name: str, param: Param | None = None) -> Input:
    """The input spec used to ask for a playbook parameter that has no value yet."""
    if param is None:
        param = Param(name)
    return Input(name=name, prompt=param.description or name.replace("_", " ").capitalize(),
                 type=param.type or "str", pattern=param.pattern)


async def ask(prompter: Prompter, masker: Masker, spec: Input, default: Any, preset: Any = None) -> Any:
    """A value for `spec`: `preset`, else the user's answer (blank: the default), coerced to
    its type and asked again with the reason while it does not fit; None when cancelled or
    refused ASK_LIMIT times. A secret answer is added to `masker`."""
    value = await _ask_until(prompter, spec, default, preset, lambda raw: coerce(spec, raw))
    if value is not None and spec.secret:
        masker.add(value)
    return value


async def ask_directory(prompter: Prompter, start: str, preset: Any = None) -> str | None:
    """A shell step's working directory: `preset`, else the user's answer (blank: `start`),
    asked again while it is not a directory; None when cancelled or refused ASK_LIMIT times."""

    def directory(raw: Any) -> str:
        path = resolve_cwd(str(raw).strip() or start)
        if not path.is_dir():
            raise BadInput(f"{path} is not a directory")
        return str(path)

    found: str | None = await _ask_until(prompter, Input(CWD_INPUT, "Working directory"), start, preset, directory)
    return found


async def _ask_until(prompter: Prompter, spec: Input, default: Any, preset: Any,
                     read: Callable[[Any], Any]) -> Any:
    """`read(preset)`, else `read` of the user's answers until one reads (a BadInput is shown
    with the next question); None when cancelled or refused ASK_LIMIT times."""
    problem: str | None = None
    raw = preset
    for _ in range(ASK_LIMIT):
        if raw is None:
            raw = await prompter.ask_input(spec, default, problem)
            if raw is None:
                return None
            if isinstance(raw, str) and not raw.strip() and default is not None:
                raw = default
        try:
            return read(raw)
        except BadInput as exc:
            problem, raw = str(exc), None
    return None
