"""Reading log events through CloudWatch Logs Insights: up to 50 groups in one query.

Where there are more groups than Live Tail sessions can hold, one StartQuery covers 50
of them for a window of time, on CloudWatch's own engine, without touching the
FilterLogEvents quota. The rows are turned back into events as FilterLogEvents gives
them (group, stream, timestamp, ingestion time, message), so the tail's identity checks
treat them like any other read.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from warroom.aws.pacing import Pacer

if TYPE_CHECKING:
    from warroom.playbook.matcher import Matcher

MAX_GROUPS = 50            # per query (the service's limit)
MAX_ROWS = 10_000          # per query (the service's limit)
POLL_EVERY = 0.5           # s between GetQueryResults while a query runs
FIELDS = "fields @timestamp, @message, @logStream, @log, @ingestionTime"
QUERY = f"{FIELDS} | sort @timestamp asc | limit {MAX_ROWS}"
MAX_QUERY = 10_000         # characters in a query string (the service's limit)
CUTS = (4, 6, 8, 12, 16, 24, 32)  # lengths literals are cut to when whole ones do not fit
_REGEX_SPECIAL = re.compile(r"([\\.^$|?*+()\[\]{}/])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DONE = frozenset({"Complete", "Failed", "Cancelled", "Timeout", "Unknown"})


class QueryFailed(Exception):
    """A Logs Insights query ended other than Complete."""


def literal_filter(literals: Sequence[tuple[frozenset[str], bool]]) -> str | None:
    """A filter clause keeping the lines that hold one literal of some set (each set with
    whether it is caseless): what a line must hold to match any symptom.

    A line holding a literal holds its every part, so where the literals do not fit in one
    query they are cut to their first characters, the longest cut that fits: a looser filter,
    the matcher confirms what it keeps. None when even that does not fit (every line is read).
    """
    whole = _clause(literals, None)
    if _fits(whole):
        return whole or None
    # A longer cut makes a longer clause: from the shortest up, until one does not fit
    # (each try costs a pass over thousands of literals).
    kept = None
    for cap in CUTS:
        clause = _clause(literals, cap)
        if not _fits(clause):
            break
        kept = clause
    return kept or None


def _clause(literals: Sequence[tuple[frozenset[str], bool]], cap: int | None) -> str:
    caseless = _weakest({lit[:cap].lower() for found, nocase in literals if nocase for lit in found})
    exact = _weakest({lit[:cap] for found, nocase in literals if not nocase for lit in found})
    exact = [lit for lit in exact if not any(other in lit.lower() for other in caseless)]
    terms = [f"@message like /{flags}{'|'.join(map(_regex_literal, group))}/"
             for flags, group in (("", exact), ("(?i)", caseless)) if group]
    return " or ".join(terms)


def _fits(clause: str) -> bool:
    return len(clause) + len(QUERY) + len(" | filter ") <= MAX_QUERY


def symptom_filter(matcher: Matcher) -> str | None:
    """The filter clause keeping the lines that may match one of the matcher's symptoms
    (each must hold a literal of its first set); None when there is no symptom."""
    if not matcher.entries:
        return None
    return literal_filter([(e.conjuncts[0], e.caseless) for e in matcher.entries if e.conjuncts])


def _weakest(literals: set[str]) -> list[str]:
    """The literals no other one is part of (a line holding one holds the other too)."""
    ordered = sorted(literals, key=len)
    kept: list[str] = []
    for lit in ordered:
        if not any(other in lit for other in kept):
            kept.append(lit)
    return sorted(kept)


def _regex_literal(text: str) -> str:
    """`text` as a literal in an Insights regex: only its special characters escaped (RE2
    refuses escapes of letters and spaces), `/`, the regex's delimiter, and control characters."""
    escaped = _REGEX_SPECIAL.sub(r"\\\1", text)
    return _CONTROL.sub(lambda c: f"\\x{ord(c.group()):02x}", escaped)  # RE2 and Python alike


async def query_events(logs: Any, pacer: Pacer, groups: Sequence[str], start_ms: int,
                       end_ms: int, where: str | None = None,
                       attempts: int | None = None) -> tuple[list[dict[str, Any]], bool]:
    """Events of `groups` with timestamps in [start_ms, end_ms] (and, given, passing the
    filter clause `where`), oldest first, as FilterLogEvents events plus `logGroupName`;
    and whether the row limit cut them short. `attempts` as `Pacer.call`'s."""
    query = QUERY if where is None else QUERY.replace(FIELDS, f"{FIELDS} | filter {where}", 1)
    answer = await pacer.call("StartQuery", logs.start_query, attempts=attempts, logGroupNames=list(groups),
                              startTime=start_ms // 1000, endTime=end_ms // 1000 + 1,
                              queryString=query, limit=MAX_ROWS)
    query_id = answer["queryId"]
    while True:
        result = await pacer.call("GetQueryResults", logs.get_query_results, attempts=attempts,
                                  queryId=query_id)
        status = result.get("status", "Unknown")
        if status in _DONE:
            break
        await asyncio.sleep(POLL_EVERY)
    if status != "Complete":
        raise QueryFailed(f"Logs Insights query {status.lower()}")
    events = []
    for row in result.get("results") or []:
        fields = {f.get("field"): f.get("value") for f in row}
        if "@timestamp" not in fields or "@log" not in fields:
            continue
        timestamp = parse_time(fields["@timestamp"])
        if not start_ms <= timestamp <= end_ms:
            continue
        ingested = fields.get("@ingestionTime")
        events.append({"logGroupName": str(fields["@log"]).split(":", 1)[-1],
                       "logStreamName": fields.get("@logStream") or "",
                       "timestamp": timestamp, "message": fields.get("@message") or "",
                       "ingestionTime": parse_time(ingested) if ingested else None})
    return events, len(result.get("results") or []) >= MAX_ROWS


def parse_time(text: str) -> int:
    """Milliseconds since the epoch from Insights' `2024-05-01 10:15:32.123` (UTC)."""
    moment = dt.datetime.fromisoformat(text)  # in C: a query answers 10,000 rows of two times
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return int(moment.timestamp() * 1000 + 0.5)
