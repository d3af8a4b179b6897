"""Every event holding a term (a request id) in some log groups, through FilterLogEvents.

The term goes to the server as a quoted filter pattern (an exact phrase), one group at a
time, paginated, each call through the caller's pacer: a lookup spends the same
FilterLogEvents budget as the tail it belongs to, never more.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from warroom.aws.pacing import Pacer
from warroom.aws.session import error_code

ATTEMPTS = 6
PAGE_LIMIT = 10_000
_UNQUOTABLE = re.compile(r'["\\\x00-\x1f\x7f]')


def quoted_term(term: str) -> str:
    """`term` as a filter pattern matching it as an exact phrase; ValueError when a filter
    pattern cannot hold it (a double quote, a backslash, control characters) or it is blank."""
    if not term.strip() or _UNQUOTABLE.search(term):
        raise ValueError("a lookup term must be non-blank, without quotes, backslashes or control characters")
    return f'"{term}"'


async def lookup_events(logs: Any, pacer: Pacer, groups: Sequence[str], term: str, start_ms: int,
                        end_ms: int) -> list[dict[str, Any]]:
    """FilterLogEvents events (plus `logGroupName`) holding `term` in [start_ms, end_ms],
    oldest first; a group that no longer exists has none."""
    pattern = quoted_term(term)
    found: list[dict[str, Any]] = []
    for group in dict.fromkeys(groups):
        token: str | None = None
        while True:
            params: dict[str, Any] = {"logGroupName": group, "startTime": start_ms, "endTime": end_ms,
                                      "filterPattern": pattern, "limit": PAGE_LIMIT}
            if token:
                params["nextToken"] = token
            try:
                answer = await pacer.call("FilterLogEvents", logs.filter_log_events, attempts=ATTEMPTS,
                                          **params)
            except Exception as exc:
                if error_code(exc) == "ResourceNotFoundException":
                    break
                raise
            for event in answer.get("events") or []:
                found.append({**event, "logGroupName": group})
            token = answer.get("nextToken")
            if not token:
                break
    found.sort(key=lambda e: (int(e["timestamp"]), e["logGroupName"]))
    return found
