"""Turning what a user typed into a typed, checked input value."""

from __future__ import annotations

from typing import Any

from warroom.playbook.model import Input, Param
from warroom.playbook.types import TYPES, misfit

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
