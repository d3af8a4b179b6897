"""Which AWS operation a request to the offline account is, whatever its wire protocol.

JSON-protocol calls name it in X-Amz-Target, query-protocol calls in the form's Action, and
REST calls only by method and path: those are matched against botocore's own request URIs
for the service named in the SigV4 credential scope.
"""

from __future__ import annotations

import functools
import io
import re
import urllib.parse
from typing import Any

Environ = dict[str, Any]

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


def signing_service(environ: Environ) -> str:
    """The service of the SigV4 credential scope (`logs`, `lambda`, `apigateway`...), or ''."""
    found = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
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
    path = environ.get("PATH_INFO", "")
    rpc = _RPC_V2.fullmatch(path)
    if rpc:
        return service, rpc.group(1)
    action = form_fields(environ).get("Action", "")
    if action:
        return service, action
    method = environ.get("REQUEST_METHOD", "GET")
    for pattern, route_method, name in _routes(signer):
        if route_method == method and pattern.fullmatch(path):
            return service, name
    return service, ""


def form_fields(environ: Environ) -> dict[str, str]:
    """The fields of a form-encoded body, leaving the body readable for the app behind."""
    if "x-www-form-urlencoded" not in environ.get("CONTENT_TYPE", ""):
        return {}
    raw = environ.get("warroom.body")
    if raw is None:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["warroom.body"] = raw
    return dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace")))


@functools.cache
def _routes(service: str) -> list[tuple[re.Pattern[str], str, str]]:
    """REST routes of every botocore service signed as `service`, most specific first."""
    import botocore.session

    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    routes: list[tuple[int, re.Pattern[str], str, str]] = []
    for name in loader.list_available_services("service-2"):
        model = session.get_service_model(name)
        if model.protocol not in ("rest-json", "rest-xml"):
            continue
        if (model.signing_name or model.endpoint_prefix) != service:
            continue
        for op_name in model.operation_names:
            http = model.operation_model(op_name).http
            uri = http.get("requestUri", "/").split("?", 1)[0]
            regex = re.sub(r"\\\{[^}]+\\\+\\\}", ".+", re.escape(uri))
            regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", regex)
            literal = len(re.sub(r"\{[^}]+\}", "", uri))
            routes.append((literal, re.compile(regex.rstrip("/") + "/?"), http.get("method", "GET"), op_name))
    routes.sort(key=lambda r: -r[0])
    return [(pattern, method, name) for _, pattern, method, name in routes]
