"""FilterLogEvents answers parsed with plain `json.loads` (botocore's walk costs several times more per event)."""

from __future__ import annotations

import json
from typing import Any


def _parse_filter_answer(response_dict: dict[str, Any], customized_response_dict: dict[str, Any],
                         **_: Any) -> None:
    """FilterLogEvents answers as plain `json.loads`, not botocore's walk over the shape
    (several times the cost per event). botocore merges `customized_response_dict` into
    what it parses, and parses an empty body instead. Errors are left to botocore."""
    if response_dict.get("status_code") != 200:
        return
    body = response_dict.get("body")
    if not isinstance(body, (bytes, bytearray)) or not body:
        return
    try:
        answer = json.loads(body)
    except ValueError:
        return
    if not isinstance(answer, dict) or not isinstance(answer.get("events", []), list):
        return
    # As botocore does: members that are null are left out.
    customized_response_dict.update({k: v for k, v in answer.items() if v is not None})
    response_dict["body"] = b"{}"


def fast_filter_answers(client: Any) -> None:
    """Have `client` parse its FilterLogEvents answers with `_parse_filter_answer`."""
    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"before-parse.{service}.FilterLogEvents", _parse_filter_answer)
