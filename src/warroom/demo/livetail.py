"""StartLiveTail streamed the way AWS streams it, inside the offline account's server process.

moto answers StartLiveTail with one snapshot of every stored event and closes. AWS keeps
the response open as an `application/vnd.amazon.eventstream` (each message: a prelude with
the lengths and its CRC32, typed headers, a JSON payload, a CRC32 of the whole): an
initial-response, a `sessionStart`, then one `sessionUpdate` a second with the events
ingested since the last one, at most 500 of them (more: a sample of 500 and
`sessionMetadata.sampled`), until the session's end (3 hours; a SessionTimeoutException in
the stream). Up to 10 groups per session and 15 sessions per account at a time
(LimitExceededException beyond). This middleware does that from moto's stored events; the
frames are encoded by moto's own event-stream encoder, and read by botocore's parser.

`POST /_warroom/livetail` (JSON) changes the limits at run time (`LiveTailConfig` fields)
and with `{"drop": true}` ends every open session at once with a
SessionStreamingException, as a network or service fault would; any call answers the
config and the counts.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from warroom.demo.wire import (
    App,
    Environ,
    StartResponse,
    find_group,
    json_answer,
    json_error,
    logs_backend,
    request_body,
)

CONTROL_PATH = "/_warroom/livetail"
TARGET = "Logs_20140328.StartLiveTail"


@dataclass
class LiveTailConfig:
    """AWS's Live Tail limits; `session_seconds` is how long a session lasts (AWS: 3 h)."""

    session_seconds: float = 3 * 3600.0
    update_seconds: float = 1.0
    max_results: int = 500
    max_groups: int = 10
    max_sessions: int = 15


@dataclass
class _Session:
    groups: list[Any]                                    # moto LogGroup objects
    stream_names: list[str]
    stream_prefixes: list[str]
    pattern: str
    cursors: dict[tuple[str, str], int] = field(default_factory=dict)  # (group, stream) -> events read
    dropped: threading.Event = field(default_factory=threading.Event)

    def streams(self) -> Iterator[tuple[Any, Any]]:
        for group in self.groups:
            for stream in list(group.streams.values()):
                name = stream.log_stream_name
                if self.stream_names and name not in self.stream_names:
                    continue
                if self.stream_prefixes and not any(name.startswith(p) for p in self.stream_prefixes):
                    continue
                yield group, stream


class LiveTail:
    """Serves StartLiveTail as a stream; passes every other request on."""

    def __init__(self, app: App, config: LiveTailConfig | None = None) -> None:
        self.app = app
        self.config = config or LiveTailConfig()
        self._sessions: dict[str, _Session] = {}
        self._counts = {"started": 0, "refused": 0, "updates": 0, "sampled_updates": 0, "results": 0}
        self._lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == CONTROL_PATH:
            return self._control(environ, start_response)
        if environ.get("HTTP_X_AMZ_TARGET") == TARGET:
            return self._start(environ, start_response)
        return self.app(environ, start_response)

    def _control(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST":
            body = request_body(environ)
            with self._lock:
                if body.pop("drop", False):
                    # Freed here, not when each stream's thread next wakes: the answer
                    # to this request already counts the places as free.
                    for session in self._sessions.values():
                        session.dropped.set()
                    self._sessions.clear()
                self.config = LiveTailConfig(**{**asdict(self.config), **body})
        with self._lock:
            state = {"config": asdict(self.config), "sessions": len(self._sessions), **self._counts}
        return json_answer(start_response, "200 OK", state)

    def _start(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        body = request_body(environ)
        config = self.config
        identifiers = list(body.get("logGroupIdentifiers") or [])
        if not identifiers or len(identifiers) > config.max_groups:
            return json_error(start_response, "InvalidParameterException",
                              "1 validation error detected: Value at 'logGroupIdentifiers' failed "
                              f"to satisfy constraint: Member must have length between 1 and {config.max_groups}")
        backend = logs_backend(environ)
        groups = []
        for identifier in identifiers:
            group = find_group(backend, identifier)
            if group is None:
                return json_error(start_response, "ResourceNotFoundException",
                                  f"The specified log group does not exist: {identifier}")
            groups.append(group)
        names, prefixes = body.get("logStreamNames") or [], body.get("logStreamNamePrefixes") or []
        if (names or prefixes) and len(groups) != 1:
            return json_error(start_response, "InvalidParameterException",
                              "logStreamNames and logStreamNamePrefixes can only be used with a single log group.")
        session = _Session(groups, names, prefixes, body.get("logEventFilterPattern") or "")
        # Events already stored are not part of a session: it shows what arrives from now on.
        for group, stream in session.streams():
            session.cursors[(group.name, stream.log_stream_name)] = len(stream.events)
        session_id = str(uuid.uuid4())
        with self._lock:
            if len(self._sessions) >= config.max_sessions:
                self._counts["refused"] += 1
                return json_error(start_response, "LimitExceededException",
                                  f"You have reached the maximum number of concurrent Live Tail "
                                  f"sessions ({config.max_sessions}).")
            self._sessions[session_id] = session
            self._counts["started"] += 1
        start_response("200 OK", [("Content-Type", "application/vnd.amazon.eventstream"),
                                  ("x-amzn-RequestId", str(uuid.uuid4()))])
        start = {"requestId": str(uuid.uuid4()), "sessionId": session_id,
                 "logGroupIdentifiers": [g.arn for g in groups], "logStreamNames": names,
                 "logStreamNamePrefixes": prefixes, "logEventFilterPattern": session.pattern}
        return self._stream(session_id, session, start, config)

    def _stream(self, session_id: str, session: _Session, start: dict[str, Any],
                config: LiveTailConfig) -> Iterator[bytes]:
        try:
            yield _frame("initial-response", {})
            yield _frame("sessionStart", start)
            began = time.monotonic()
            tick = began
            while True:
                tick += config.update_seconds
                if session.dropped.wait(max(0.0, tick - time.monotonic())):
                    yield _exception("SessionStreamingException", "The session was interrupted.")
                    return
                yield _frame("sessionUpdate", self._update(session, config))
                if time.monotonic() - began >= config.session_seconds:
                    yield _exception("SessionTimeoutException",
                                     "The Live Tail session has reached its maximum duration.")
                    return
        finally:
            with self._lock:
                self._sessions.pop(session_id, None)

    def _update(self, session: _Session, config: LiveTailConfig) -> dict[str, Any]:
        from moto.logs.utils import EventMessageFilter

        matches = EventMessageFilter(session.pattern).matches if session.pattern else None
        results = []
        for group, stream in session.streams():
            key = (group.name, stream.log_stream_name)
            events = stream.events
            end = len(events)  # moto only appends: everything past the cursor is new
            for event in events[session.cursors.get(key, 0):end]:
                if matches is None or matches(event.message):
                    results.append({"logStreamName": stream.log_stream_name,
                                    "logGroupIdentifier": group.arn, "message": event.message,
                                    "timestamp": event.timestamp, "ingestionTime": event.ingestion_time})
            session.cursors[key] = end
        sampled = len(results) > config.max_results
        if sampled:
            # An even spread over the second's events stands in for AWS's sample.
            step = len(results) / config.max_results
            results = [results[int(i * step)] for i in range(config.max_results)]
        results.sort(key=lambda r: (r["timestamp"], r["ingestionTime"]))
        with self._lock:
            self._counts["updates"] += 1
            self._counts["results"] += len(results)
            self._counts["sampled_updates"] += sampled
        return {"sessionMetadata": {"sampled": sampled}, "sessionResults": results}


def _frame(event_type: str, payload: dict[str, Any]) -> bytes:
    from moto.core.eventstream import EventStreamEncoder

    headers = {":message-type": "event", ":event-type": event_type,
               ":content-type": "application/json"}
    return EventStreamEncoder().encode_message(headers, json.dumps(payload).encode())


def _exception(code: str, message: str) -> bytes:
    from moto.core.eventstream import EventStreamEncoder

    headers = {":message-type": "exception", ":exception-type": code,
               ":content-type": "application/json"}
    return EventStreamEncoder().encode_message(headers, json.dumps({"message": message}).encode())
