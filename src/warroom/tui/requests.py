"""Which request a log line belongs to: a Lambda RequestId, an API Gateway requestId, an X-Ray trace.

Kept free of Textual. The patterns have no nested repetition, so on `re` they run in time
linear in the line whatever a hostile line holds.
"""

from __future__ import annotations

import re

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# Most specific first: the first that matches names the request.
PATTERNS = (
    re.compile(rf"RequestId: ({_UUID})"),                                        # START/END/REPORT
    re.compile(r'"(?:requestId|request_id|awsRequestId|aws_request_id)"\s*:\s*"([^"\\]{6,128})"'),
    re.compile(r"\b(1-[0-9a-f]{8}-[0-9a-f]{24})\b"),                             # X-Ray trace id
    re.compile(rf"^\S+\s+({_UUID})\s"),                                          # Lambda text format
    re.compile(rf"\b({_UUID})\b"),
)


def request_id(message: str) -> str | None:
    """The request id a line carries, if it carries one."""
    for pattern in PATTERNS:
        found = pattern.search(message)
        if found is not None:
            return found.group(1)
    return None
