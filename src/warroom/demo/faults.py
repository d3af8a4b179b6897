"""A WSGI middleware that injects AWS-like faults in front of moto, for tests and benches.

Configured at run time through `POST /_warroom/faults` (JSON) on the server itself, so a
test can turn throttling on while a tailer runs and off again to let it catch up.
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from warroom.demo.operations import access_key, body, operation_of

CONTROL_PATH = "/_warroom/faults"

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
App = Callable[[Environ, StartResponse], Iterable[bytes]]


@dataclass
class FaultConfig:
    """Share (0..1) of matching calls that get each fault; `targets` narrows which calls."""

    throttle: float = 0.0
    error: float = 0.0
    drop: float = 0.0
    delay: float = 0.0  # seconds, added to every matching call
    targets: list[str] = field(default_factory=list)  # substrings of X-Amz-Target or path
    # Substrings of the request body, one of which a matching call must also hold: an
    # endpoint that fails only some requests of an operation (a percentile statistic).
    bodies: list[str] = field(default_factory=list)
    seed: int | None = None
    # IAM actions this identity may not call (`logs:FilterLogEvents`, or a bare operation):
    # answered AccessDenied, as a policy without them would be.
    deny: list[str] = field(default_factory=list)
    # Credentials past their end: every call is answered ExpiredTokenException, except the
    # calls signed with `spared` access key ids (another identity, e.g. one writing logs).
    expired: bool = False
    spared: list[str] = field(default_factory=list)


def refuses(deny: Iterable[str], action: str) -> bool:
    """Whether a `deny` list (`service:Operation` or a bare operation) names this IAM action;
    IAM reads action names without regard to case."""
    action = action.lower()
    operation = action.partition(":")[2]
    return any(entry.lower() in (action, operation) for entry in deny)


class FaultInjector:
    def __init__(self, app: App) -> None:
        self.app = app
        self.config = FaultConfig()
        self.counts: Counter[str] = Counter()
        self._random = random.Random()
        self._lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == CONTROL_PATH:
            return self._control(environ, start_response)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        config = self.config
        # The server's own control paths are not AWS calls: no credentials to expire.
        if config.expired and not path.startswith(("/_warroom/", "/moto-api/")) \
                and access_key(environ) not in config.spared:
            self.counts["expired"] += 1
            return _error(environ, start_response, 400, "ExpiredTokenException",
                          "The security token included in the request is expired")
        if config.deny:
            service, operation = operation_of(environ)
            if operation and refuses(config.deny, f"{service}:{operation}"):
                self.counts["denied"] += 1
                return _error(environ, start_response, 400, "AccessDeniedException",
                              f"User is not authorized to perform: {service}:{operation}")
        if config.targets and not any(t in target or t in environ.get("PATH_INFO", "")
                                      for t in config.targets):
            return self.app(environ, start_response)
        if config.bodies and not any(b.encode() in body(environ) for b in config.bodies):
            return self.app(environ, start_response)
        if not (config.throttle or config.error or config.drop or config.delay):
            return self.app(environ, start_response)
        if config.delay:
            time.sleep(config.delay)
        with self._lock:
            roll = self._random.random()
        if roll < config.drop:
            self.counts["dropped"] += 1
            return self._drop(environ, start_response)
        roll -= config.drop
        if roll < config.throttle:
            self.counts["throttled"] += 1
            return _error(environ, start_response, 400, "ThrottlingException", "Rate exceeded")
        roll -= config.throttle
        if roll < config.error:
            self.counts["errors"] += 1
            return _error(environ, start_response, 500, "InternalFailure",
                          "We encountered an internal error. Please try again.")
        return self.app(environ, start_response)

    def _control(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length) or b"{}")
            self.config = FaultConfig(**body)
            self._random = random.Random(self.config.seed)
        payload = json.dumps({"config": asdict(self.config), "counts": dict(self.counts)}).encode()
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(payload)))])
        return [payload]

    def _drop(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        # Close the connection without an answer, as a reset or an idle timeout would.
        sock = environ.get("werkzeug.socket")
        if isinstance(sock, socket.socket):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        start_response("500 Internal Server Error", [("Content-Length", "0")])
        return [b""]


def _error(environ: Environ, start_response: StartResponse, status: int, code: str,
           message: str) -> Iterable[bytes]:
    """An error in the wire format of the caller's protocol."""
    reason = {400: "Bad Request", 500: "Internal Server Error"}[status]
    if environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor":  # e.g. CloudWatch
        body = _cbor_map({"__type": code, "message": message})
        headers = [("Content-Type", "application/cbor"), ("Smithy-Protocol", "rpc-v2-cbor")]
    elif environ.get("HTTP_X_AMZ_TARGET"):  # AWS JSON 1.0/1.1 protocol
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1")]
    elif "json" in environ.get("CONTENT_TYPE", "") or environ.get("REQUEST_METHOD") == "GET":
        body = json.dumps({"message": message}).encode()  # REST-JSON
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
    else:  # query protocol
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                f"<Message>{message}</Message></Error><RequestId>0</RequestId></ErrorResponse>").encode()
        headers = [("Content-Type", "text/xml")]
    start_response(f"{status} {reason}", [*headers, ("Content-Length", str(len(body)))])
    return [body]


def _cbor_map(fields: dict[str, str]) -> bytes:
    """A CBOR map of short text strings (all an error body needs; RFC 8949 major types 3, 5)."""
    def head(major: int, length: int) -> bytes:
        if length < 24:
            return bytes([major << 5 | length])
        if length < 256:
            return bytes([major << 5 | 24, length])
        return bytes([major << 5 | 25]) + length.to_bytes(2, "big")

    out = bytearray(head(5, len(fields)))
    for key, value in fields.items():
        for text in (key, value):
            raw = text.encode()
            out += head(3, len(raw)) + raw
    return bytes(out)
