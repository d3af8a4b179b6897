"""Checking and shaping call parameters against botocore's service model."""

from __future__ import annotations

import json
from typing import Any

from warroom.aws.service_model import operation_model


def coerce_to_model(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """Params with text that stands for a number or boolean converted where the model wants one.

    Captures and `--param` values are always text; `Timeout: '{timeout}'` must still send 30.
    """
    op = operation_model(service, operation)
    if op is None or op.input_shape is None:
        return params
    return _coerce(params, op.input_shape)


def _coerce(value: Any, shape: Any) -> Any:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return {k: (_coerce(v, shape.members[k]) if k in shape.members else v)
                for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [_coerce(v, shape.member) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: _coerce(v, shape.value) for k, v in value.items()}
    if isinstance(value, str):
        text = value.strip()
        try:
            if kind in ("integer", "long"):
                return int(text)
            if kind in ("float", "double"):
                return float(text)
        except ValueError:
            return value
        if kind == "boolean" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        if kind in ("structure", "list", "map") and text[:1] in "[{":
            try:  # a captured JSON document standing for a structure
                return json.loads(text)
            except ValueError:
                return value
    if kind == "string" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def problems(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    """Every way `params` would be rejected by the SDK before it is sent; empty when valid."""
    from botocore.validate import ParamValidator

    op = operation_model(service, operation)
    if op is None:
        return [f"botocore has no operation {service}.{operation}"]
    if op.input_shape is None:
        return [] if not params else [f"{service}.{operation} takes no parameters"]
    report = ParamValidator().validate(params, op.input_shape)
    if not report.has_errors():
        return []
    # generate_report() starts with a header line and then one line per problem.
    lines = [line.strip() for line in report.generate_report().splitlines()]
    return [line for line in lines if line and not line.startswith("Parameter validation failed")]
