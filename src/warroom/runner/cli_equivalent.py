"""The AWS CLI command equivalent to a call, ready to copy."""

from __future__ import annotations

import json
import shlex
from typing import Any

from warroom.aws.service_model import operation_model

# botocore service names whose CLI command differs.
_CLI_SERVICE = {"s3": "s3api"}


def aws_cli(service: str, operation: str, params: dict[str, Any], *, region: str | None = None,
            profile: str | None = None, endpoint_url: str | None = None) -> str:
    """`aws lambda update-function-configuration --function-name X --timeout 60`."""
    from botocore import xform_name

    op = operation_model(service, operation)
    api = op.name if op is not None else operation
    members = op.input_shape.members if op is not None and op.input_shape is not None else {}
    words = ["aws", _CLI_SERVICE.get(service, service), xform_name(api, "-")]
    for name, value in params.items():
        flag = "--" + xform_name(name, "-")
        shape = members.get(name)
        if shape is not None and shape.type_name == "boolean" and isinstance(value, bool):
            words.append(flag if value else "--no-" + flag[2:])
            continue
        words += [flag, shlex.quote(_text(value))]
    for flag, value in (("--region", region), ("--profile", profile), ("--endpoint-url", endpoint_url)):
        if value:
            words += [flag, shlex.quote(value)]
    return " ".join(words)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
