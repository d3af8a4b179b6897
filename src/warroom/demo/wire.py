"""JSON-protocol requests and answers of CloudWatch Logs inside the offline account's server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from warroom.demo.operations import body, signing_region

ACCOUNT = "123456789012"

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
App = Callable[[Environ, StartResponse], Iterable[bytes]]

def request_body(environ: Environ) -> dict[str, Any]:
    """The JSON request a middleware answers itself; a body that is not JSON raises."""
    return json.loads(body(environ) or b"{}")


def logs_backend(environ: Environ) -> Any:
    """moto's CloudWatch Logs backend of the region the request is signed for."""
    from moto.logs.models import logs_backends

    return logs_backends[ACCOUNT][signing_region(environ)]


def find_group(backend: Any, identifier: str) -> Any:
    """A moto log group by name or ARN (with or without the trailing `:*`), or None."""
    name = identifier.removesuffix(":*")
    if ":log-group:" in name:
        name = name.split(":log-group:", 1)[1]
    return backend.groups.get(name)


def json_answer(start_response: StartResponse, status: str, result: Any,
                content_type: str = "application/json") -> Iterable[bytes]:
    payload = json.dumps(result).encode()
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(payload)))])
    return [payload]


def json_error(start_response: StartResponse, code: str, message: str) -> Iterable[bytes]:
    """An error as a JSON-protocol AWS service answers it: HTTP 400, `__type` and message."""
    return json_answer(start_response, "400 Bad Request", {"__type": code, "message": message},
                       "application/x-amz-json-1.1")


def service_error(code: str, message: str) -> Exception:
    """An AWS error moto's response classes answer in the service's own protocol."""
    from moto.core.exceptions import ServiceException

    return ServiceException(code, message)


T = TypeVar("T")


def backend_state(backend: Any, name: str, empty: Callable[[], T]) -> T:
    """State the offline account keeps beside a moto backend's own, on the backend, so that
    moto's reset forgets it with everything else."""
    state = backend.__dict__.get(name)
    if state is None:
        state = backend.__dict__.setdefault(name, empty())
    return state  # type: ignore[no-any-return]
