"""CloudWatch Logs Insights (StartQuery, GetQueryResults, StopQuery) inside the offline account.

moto's StartQuery takes only `logGroupName(s)` and understands little of the language.
This middleware answers the query shapes warroom sends from moto's stored events:

    SOURCE logGroups(namePrefix: ['/aws/lambda/a', ...])      (instead of naming groups)
    | fields @timestamp, @message, @logStream, @log
    | filter @message like /regex/ or @message like 'literal' and not ...
    | sort @timestamp desc
    | limit 100

Up to 50 groups per query (`logGroupNames` or `logGroupIdentifiers`); times in epoch
seconds, both ends inclusive; results as AWS gives them (`[{field, value}]` rows, `@ptr`,
statistics). A query is complete when first read. A query it cannot parse is answered
MalformedQueryException, as AWS does.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from warroom.demo.wire import (
    ACCOUNT,
    App,
    Environ,
    StartResponse,
    find_group,
    json_answer,
    json_error,
    logs_backend,
    request_body,
)

TARGET = "Logs_20140328."
MAX_GROUPS = 50
DEFAULT_LIMIT = 10_000
_TOKEN = re.compile(r"""\s*(?:
    (?P<regex>/(?:\\.|[^/\\])*/)
  | (?P<string>'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")
  | (?P<op>=~|!=|=|\(|\))
  | (?P<word>[@\w.]+)
)""", re.VERBOSE)

Predicate = Callable[[dict[str, Any]], bool]


class MalformedQuery(ValueError):
    """A query outside the supported shapes."""


@dataclass
class Query:
    """A parsed query: where to look, what to keep, how to order and how many."""

    prefixes: list[str]
    fields: list[str]
    predicate: Predicate | None
    sort_desc: bool | None
    limit: int


class Insights:
    """Serves the Logs Insights APIs; passes every other request on."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._results: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        api = target[len(TARGET):] if target.startswith(TARGET) else ""
        if api == "StartQuery":
            return self._start(environ, start_response)
        if api in ("GetQueryResults", "StopQuery"):
            query_id = request_body(environ).get("queryId", "")
            with self._lock:
                result = self._results.get(query_id)
            if result is None:
                return json_error(start_response, "ResourceNotFoundException",
                                  f"Query does not exist: {query_id}")
            if api == "StopQuery":  # every query is already complete
                return json_answer(start_response, "200 OK", {"success": False},
                                   "application/x-amz-json-1.1")
            return json_answer(start_response, "200 OK", result, "application/x-amz-json-1.1")
        return self.app(environ, start_response)

    def _start(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        body = request_body(environ)
        try:
            query = parse(body.get("queryString") or "")
        except MalformedQuery as exc:
            return json_error(start_response, "MalformedQueryException", str(exc))
        named = list(body.get("logGroupNames") or body.get("logGroupIdentifiers") or [])
        if body.get("logGroupName"):
            named.append(body["logGroupName"])
        if bool(named) == bool(query.prefixes):
            return json_error(start_response, "InvalidParameterException",
                              "Name the log groups either in the request or with SOURCE, not both or neither")
        backend = logs_backend(environ)
        if named:
            groups = [find_group(backend, n) for n in named]
            missing = [n for n, g in zip(named, groups, strict=True) if g is None]
            if missing:
                return json_error(start_response, "ResourceNotFoundException",
                                  f"Log group does not exist: {missing[0]}")
        else:
            groups = [g for name, g in sorted(backend.groups.items())
                      if any(name.startswith(p) for p in query.prefixes)]
        if len(groups) > MAX_GROUPS:
            return json_error(start_response, "InvalidParameterException",
                              f"A query can search at most {MAX_GROUPS} log groups ({len(groups)} given)")
        limit = min(int(body.get("limit") or query.limit), DEFAULT_LIMIT)
        result = run(groups, query, int(body.get("startTime", 0)) * 1000,
                     int(body.get("endTime", 0)) * 1000 + 999, limit)
        query_id = str(uuid.uuid4())
        with self._lock:
            self._results[query_id] = result
        return json_answer(start_response, "200 OK", {"queryId": query_id},
                           "application/x-amz-json-1.1")


def run(groups: list[Any], query: Query, start_ms: int, end_ms: int, limit: int) -> dict[str, Any]:
    """The GetQueryResults answer of `query` over moto's stored events of `groups`."""
    rows: list[dict[str, Any]] = []
    scanned = scanned_bytes = 0
    for group in groups:
        for stream in list(group.streams.values()):
            for event in list(stream.events):
                if not start_ms <= event.timestamp <= end_ms:
                    continue
                scanned += 1
                scanned_bytes += len(event.message)
                row = {"@timestamp": event.timestamp, "@message": event.message,
                       "@logStream": stream.log_stream_name, "@log": f"{ACCOUNT}:{group.name}",
                       "@ingestionTime": event.ingestion_time,
                       "@ptr": f"{group.name}|{stream.log_stream_name}|{event.event_id}"}
                if query.predicate is None or query.predicate(row):
                    rows.append(row)
    if query.sort_desc is not None:
        rows.sort(key=lambda r: r["@timestamp"], reverse=query.sort_desc)
    fields = query.fields or ["@timestamp", "@message"]
    results = [[{"field": f, "value": _shown(f, row[f])} for f in [*fields, "@ptr"] if f in row]
               for row in rows[:limit]]
    return {"status": "Complete", "results": results,
            "statistics": {"recordsMatched": float(len(rows)), "recordsScanned": float(scanned),
                           "bytesScanned": float(scanned_bytes)}}


def _shown(field: str, value: Any) -> str:
    if field in ("@timestamp", "@ingestionTime"):
        moment = dt.datetime.fromtimestamp(value / 1000, dt.timezone.utc)
        return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{value % 1000:03d}"
    return str(value)


# -- the language ------------------------------------------------------------------------

def parse(text: str) -> Query:
    """A Query from Logs Insights text; raises MalformedQuery outside the supported shapes."""
    query = Query(prefixes=[], fields=[], predicate=None, sort_desc=None, limit=DEFAULT_LIMIT)
    for index, command in enumerate(_commands(text)):
        verb, _, rest = command.strip().partition(" ")
        rest = rest.strip()
        if verb == "SOURCE" and index == 0:
            found = re.fullmatch(r"logGroups\(\s*namePrefix\s*:\s*\[(.*?)\]\s*(?:,[^)]*)?\)", rest)
            if not found:
                raise MalformedQuery(f"unsupported SOURCE: {rest}")
            query.prefixes = [_unquote(p.strip()) for p in found.group(1).split(",") if p.strip()]
        elif verb == "fields":
            query.fields += [f.strip() for f in rest.split(",") if f.strip()]
        elif verb == "filter":
            tokens = _tokens(rest)
            predicate, position = _or(tokens, 0)
            if position != len(tokens):
                raise MalformedQuery(f"unexpected {tokens[position][1]!r} in filter")
            previous = query.predicate
            query.predicate = predicate if previous is None else _both(previous, predicate)
        elif verb == "sort":
            found = re.fullmatch(r"(@timestamp)(?:\s+(asc|desc))?", rest)
            if not found:
                raise MalformedQuery(f"unsupported sort: {rest}")
            query.sort_desc = found.group(2) != "asc"
        elif verb == "limit" and rest.isdigit():
            query.limit = int(rest)
        else:
            raise MalformedQuery(f"unsupported command: {command.strip()}")
    return query


def _commands(text: str) -> list[str]:
    """The commands between `|`, leaving a `|` inside a regex or a string alone."""
    commands: list[str] = []
    current = ""
    position = 0
    while position < len(text):
        found = _TOKEN.match(text, position)
        if found and found.group("regex") or found and found.group("string"):
            current += text[position:found.end()]
            position = found.end()
        elif text[position] == "|":
            commands.append(current)
            current, position = "", position + 1
        else:
            current += text[position]
            position += 1
    commands.append(current)
    return [c for c in commands if c.strip()]


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens = []
    position = 0
    while text[position:].strip():
        found = _TOKEN.match(text, position)
        if not found:
            raise MalformedQuery(f"cannot read filter at {text[position:].strip()[:20]!r}")
        kind = found.lastgroup or ""
        tokens.append((kind, found.group(kind)))
        position = found.end()
    return tokens


def _or(tokens: list[tuple[str, str]], at: int) -> tuple[Predicate, int]:
    left, at = _and(tokens, at)
    while at < len(tokens) and tokens[at] == ("word", "or"):
        right, at = _and(tokens, at + 1)
        left = _either(left, right)
    return left, at


def _and(tokens: list[tuple[str, str]], at: int) -> tuple[Predicate, int]:
    left, at = _term(tokens, at)
    while at < len(tokens) and tokens[at] == ("word", "and"):
        right, at = _term(tokens, at + 1)
        left = _both(left, right)
    return left, at


def _term(tokens: list[tuple[str, str]], at: int) -> tuple[Predicate, int]:
    if at >= len(tokens):
        raise MalformedQuery("filter ends too early")
    if tokens[at] == ("word", "not"):
        inner, at = _term(tokens, at + 1)
        return (lambda row: not inner(row)), at
    if tokens[at] == ("op", "("):
        inner, at = _or(tokens, at + 1)
        if at >= len(tokens) or tokens[at] != ("op", ")"):
            raise MalformedQuery("missing ')' in filter")
        return inner, at + 1
    if at + 3 > len(tokens):
        raise MalformedQuery("incomplete comparison in filter")
    (kind, field), (_, op), (value_kind, value) = tokens[at:at + 3]
    if kind != "word" or value_kind not in ("regex", "string"):
        raise MalformedQuery(f"unsupported comparison: {field} {op} {value}")
    if op in ("like", "=~"):
        if value_kind == "regex":
            pattern = re.compile(value[1:-1].replace("\\/", "/"))
        else:
            pattern = re.compile(re.escape(_unquote(value)))
        return (lambda row: pattern.search(str(row.get(field, ""))) is not None), at + 3
    if op in ("=", "!="):
        wanted, equal = _unquote(value), op == "="
        return (lambda row: (str(row.get(field, "")) == wanted) == equal), at + 3
    raise MalformedQuery(f"unsupported operator: {op}")


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda row: a(row) or b(row)


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda row: a(row) and b(row)


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text
