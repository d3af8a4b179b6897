"""Which AWS operation a request to the offline account is, whatever its wire protocol.

JSON-protocol calls name it in X-Amz-Target, query-protocol calls in the form's Action, and
REST calls only by method and path: those are matched against botocore's own request URIs
for the service named in the SigV4 credential scope. The fault injector and the CloudTrail
recorder both read requests through this module.
"""

from __future__ import annotations

import functools
import io
import json
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

Environ = dict[str, Any]

_SIGV4 = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


def signing_service(environ: Environ) -> str:
    """The service of the SigV4 credential scope (`logs`, `lambda`, `apigateway`...), or ''."""
    found = _SIGV4.search(environ.get("HTTP_AUTHORIZATION", ""))
    return found.group(3) if found else ""


def signing_region(environ: Environ) -> str:
    """The region of the SigV4 credential scope; us-east-1 when unsigned, as the SDKs default."""
    found = _SIGV4.search(environ.get("HTTP_AUTHORIZATION", ""))
    return found.group(2) if found else "us-east-1"


def access_key(environ: Environ) -> str:
    """The access key id the request was signed with, or ''."""
    found = _SIGV4.search(environ.get("HTTP_AUTHORIZATION", ""))
    return found.group(1) if found else ""


# Signing names that differ from the IAM action prefix.
_IAM_PREFIX = {"monitoring": "cloudwatch", "tagging": "tag"}
# Smithy RPC v2 (CBOR), e.g. CloudWatch: POST /service/<Service>/operation/<Operation>
_RPC_V2 = re.compile(r"/service/[^/]+/operation/([A-Za-z0-9]+)")


def operation_of(environ: Environ) -> tuple[str, str]:
    """(IAM service prefix, operation name) of a request; operation '' when unknown."""
    signer = signing_service(environ)
    service = _IAM_PREFIX.get(signer, signer)
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return service, target.rsplit(".", 1)[-1]
    rpc = _RPC_V2.fullmatch(environ.get("PATH_INFO", ""))
    if rpc:
        return service, rpc.group(1)
    action = form_fields(environ).get("Action", "")
    if action:
        return service, action
    found = rest_route(environ)
    return service, found[0].operation if found else ""


def body(environ: Environ) -> bytes:
    """The request body, left readable for the app behind."""
    raw = environ.get("warroom.body")
    if raw is None:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["warroom.body"] = raw
    return raw


def json_body(environ: Environ) -> dict[str, Any]:
    """The JSON object of the request body; {} for an empty body, bad JSON or a non-object."""
    try:
        parsed = json.loads(body(environ) or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def form_fields(environ: Environ) -> dict[str, str]:
    """The fields of a form-encoded (query-protocol) body; {} for other bodies."""
    if "x-www-form-urlencoded" not in environ.get("CONTENT_TYPE", ""):
        return {}
    return dict(urllib.parse.parse_qsl(body(environ).decode("utf-8", "replace")))


@dataclass(frozen=True)
class Route:
    """One REST operation of a botocore model: method, path with captures, required query keys."""

    service: str              # botocore model name
    operation: str
    method: str
    path: re.Pattern[str]     # one group per {label} of the request URI, in order
    query_keys: tuple[str, ...]
    labels: tuple[str, ...]   # the URI's {label} names, in order


def rest_route(environ: Environ) -> tuple[Route, re.Match[str]] | None:
    """The REST operation a request is, with its path match; most specific route first."""
    method = environ.get("REQUEST_METHOD", "GET")
    path = urllib.parse.unquote(environ.get("PATH_INFO", ""))
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    for route in _routes(signing_service(environ)):
        if route.method != method or not all(k in query for k in route.query_keys):
            continue
        match = route.path.fullmatch(path)
        if match is not None:
            return route, match
    return None


# The REST services the offline account serves, by signing name: reading only their models
# keeps the first request fast (every botocore model would take seconds).
_REST_MODELS = {"apigateway": ("apigatewayv2", "apigateway"), "lambda": ("lambda",), "s3": ("s3",)}


@functools.cache
def _routes(signer: str) -> list[Route]:
    """REST routes of the models signed as `signer`, most specific (longest literal) first."""
    import botocore.session

    session = botocore.session.get_session()
    names = _REST_MODELS.get(signer)
    if names is None:
        names = tuple(session.get_component("data_loader").list_available_services("service-2"))
    ranked: list[tuple[int, Route]] = []
    for name in names:
        model = session.get_service_model(name)
        if model.protocol not in ("rest-json", "rest-xml") or \
                (model.signing_name or model.endpoint_prefix) != signer:
            continue
        for op_name in model.operation_names:
            http = model.operation_model(op_name).http
            uri, _, query = http.get("requestUri", "/").partition("?")
            regex = re.sub(r"\\\{[^}]+?\\\+\\\}", "(.+)", re.escape(uri))
            regex = re.sub(r"\\\{[^}]+?\\\}", "([^/]+)", regex)
            keys = tuple(part.split("=", 1)[0] for part in query.split("&") if part)
            route = Route(name, op_name, http.get("method", "GET"), re.compile(regex.rstrip("/") + "/?"),
                          keys, tuple(re.findall(r"\{([^}+]+)\+?\}", uri)))
            ranked.append((len(re.sub(r"\{[^}]+\}", "", uri)) + len(keys), route))
    ranked.sort(key=lambda r: -r[0])
    return [route for _, route in ranked]
