"""CloudTrail for the offline account: every mutating call moto serves, as a management event.

A WSGI middleware in moto's server process (imported there only). It reads each request
as AWS would (the caller's access key from the SigV4 header, the operation from the
botocore service model), lets moto answer, and records the calls that succeeded and
change something, with sensitive request parameters hidden as CloudTrail hides them. It
answers CloudTrail's LookupEvents itself: lookup attributes, time range, MaxResults and
NextToken paging, newest first, under AWS's quota of 2 requests per second.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from warroom.demo.operations import (
    access_key,
    body,
    form_fields,
    json_body,
    rest_route,
    signing_region,
    signing_service,
)
from warroom.demo.quotas import Quota

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
App = Callable[[Environ, StartResponse], Iterable[bytes]]

ACCOUNT = "123456789012"
LOOKUP_TARGET = "CloudTrail_20131101.LookupEvents"
LOOKUP_RATE = 2            # requests per second per account and region, as AWS enforces
MAX_RESULTS = 50
MAX_EVENTS = 20_000        # kept, oldest dropped first (AWS keeps 90 days)
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"

READ_ONLY_PREFIXES = ("Get", "List", "Describe", "Lookup", "Search", "Scan", "Query", "BatchGet",
                      "Filter", "Head", "Select", "Test", "Simulate", "Estimate", "Validate", "Check")
# Data events and telemetry (CloudTrail does not record them as management events), and reads.
NOT_RECORDED = frozenset({
    "logs.PutLogEvents", "logs.CreateLogStream", "monitoring.PutMetricData", "lambda.Invoke",
    "dynamodb.PutItem", "dynamodb.UpdateItem", "dynamodb.DeleteItem", "dynamodb.BatchWriteItem",
    "dynamodb.TransactWriteItems", "s3.PutObject", "s3.DeleteObject", "s3.DeleteObjects",
    "s3.CopyObject", "sts.AssumeRole", "kms.Decrypt", "kms.Encrypt", "kms.GenerateDataKey",
    "xray.PutTraceSegments", "xray.PutTelemetryRecords",
    # Reads whose names do not say so (CloudTrail marks them readOnly).
    "logs.StartLiveTail", "logs.StartQuery", "logs.StopQuery",
})
# Keys whose values are secret whatever the service model says.
_SECRET_KEY = re.compile(r"(?i)password|secretstring|secretbinary|plaintext|privatekey|"
                         r"secretaccesskey|sessiontoken|^token$")

# Request members that name the resource a call touches, per service: member -> resource type.
RESOURCE_MEMBERS: dict[str, dict[str, str]] = {
    "lambda": {"FunctionName": "AWS::Lambda::Function", "LayerName": "AWS::Lambda::LayerVersion"},
    "iam": {"RoleName": "AWS::IAM::Role", "UserName": "AWS::IAM::User", "PolicyArn": "AWS::IAM::Policy",
            "GroupName": "AWS::IAM::Group"},
    "secretsmanager": {"SecretId": "AWS::SecretsManager::Secret", "Name": "AWS::SecretsManager::Secret"},
    "ssm": {"Name": "AWS::SSM::Parameter"},
    "cloudformation": {"StackName": "AWS::CloudFormation::Stack"},
    "dynamodb": {"TableName": "AWS::DynamoDB::Table"},
    "codebuild": {"name": "AWS::CodeBuild::Project", "projectName": "AWS::CodeBuild::Project"},
    "kms": {"KeyId": "AWS::KMS::Key", "TargetKeyId": "AWS::KMS::Key", "AliasName": "AWS::KMS::Alias"},
    "apigatewayv2": {"ApiId": "AWS::ApiGatewayV2::Api", "Name": "AWS::ApiGatewayV2::Api"},
    "sns": {"TopicArn": "AWS::SNS::Topic", "Name": "AWS::SNS::Topic"},
    "logs": {"logGroupName": "AWS::Logs::LogGroup"},
    "s3": {"Bucket": "AWS::S3::Bucket"},
    "cloudwatch": {"AlarmName": "AWS::CloudWatch::Alarm", "AlarmNames": "AWS::CloudWatch::Alarm"},
}
GLOBAL_SERVICES = {"iam"}
LOOKUP_KEYS = {"EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName",
               "EventSource", "AccessKeyId"}


class BadLookup(Exception):
    """A LookupEvents request AWS refuses, with its error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Trail:
    """The recorded events (oldest first) and LookupEvents over them; thread-safe."""

    def __init__(self, rate: int = LOOKUP_RATE) -> None:
        self.events: deque[tuple[str, dict[str, Any]]] = deque(maxlen=MAX_EVENTS)  # (region, event)
        self.rate = rate
        self._quota = Quota(rate)
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self.events.clear()
            self._quota = Quota(self.rate)

    def add(self, event: dict[str, Any], region: str = "us-east-1") -> None:
        with self._lock:
            self.events.append((region, event))

    def admit(self) -> bool:
        """Whether a LookupEvents call fits in the account's quota."""
        return self._quota.take()

    def lookup(self, request: dict[str, Any], region: str | None = None) -> dict[str, Any]:
        """The LookupEvents answer in `region` (every region's when None), as AWS keeps a trail
        per region; raises BadLookup for a request AWS would refuse."""
        attributes = request.get("LookupAttributes") or []
        if len(attributes) > 1:
            raise BadLookup("InvalidLookupAttributesException",
                              "You cannot specify more than one lookup attribute.")
        for attribute in attributes:
            if attribute.get("AttributeKey") not in LOOKUP_KEYS:
                raise BadLookup("InvalidLookupAttributesException",
                                  f"Invalid lookup attribute key: {attribute.get('AttributeKey')}")
        limit = int(request.get("MaxResults") or MAX_RESULTS)
        if not 1 <= limit <= MAX_RESULTS:
            raise BadLookup("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
        start, end = _epoch(request.get("StartTime")), _epoch(request.get("EndTime"))
        if start is not None and end is not None and start > end:
            raise BadLookup("InvalidTimeRangeException", "StartTime must be before EndTime.")
        with self._lock:
            matching = [e for r, e in reversed(self.events)
                        if (region is None or r == region)
                        and (start is None or e["EventTime"] >= start)
                        and (end is None or e["EventTime"] <= end)
                        and all(_matches(e, a) for a in attributes)]
        offset = 0
        if request.get("NextToken"):
            offset = _token_offset(request["NextToken"], matching)
        page = matching[offset:offset + limit]
        answer: dict[str, Any] = {"Events": page}
        if offset + limit < len(matching):
            answer["NextToken"] = _token(matching[offset + limit]["EventId"])
        return answer


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def _matches(event: dict[str, Any], attribute: dict[str, Any]) -> bool:
    key, value = attribute.get("AttributeKey"), attribute.get("AttributeValue")
    if key in ("ResourceType", "ResourceName"):
        return any(r.get(key) == value for r in event.get("Resources", []))
    return str(event.get(key)) == str(value)


def _token(event_id: str) -> str:
    return base64.b64encode(json.dumps({"after": event_id}).encode()).decode()


def _token_offset(token: str, events: list[dict[str, Any]]) -> int:
    try:
        wanted = json.loads(base64.b64decode(token))["after"]
    except (ValueError, KeyError, TypeError):
        raise BadLookup("InvalidNextTokenException", "Invalid NextToken.") from None
    for index, event in enumerate(events):
        if event["EventId"] == wanted:
            return index
    raise BadLookup("InvalidNextTokenException", "Invalid NextToken.")


class CloudTrailRecorder:
    """Records mutating calls into a Trail and answers LookupEvents from it."""

    def __init__(self, app: App, trail: Trail | None = None) -> None:
        self.app = app
        self.trail = trail or Trail()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/moto-api/reset"):
            self.trail.clear()
            return self.app(environ, start_response)
        if path.startswith(("/_warroom/", "/moto-api/")):
            return self.app(environ, start_response)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.endswith(LOOKUP_TARGET):
            return self._lookup(environ, start_response)
        try:
            call = identify(environ)
        except Exception:  # noqa: BLE001 - a request we cannot read is served, not recorded
            call = None
        if call is None:
            return self.app(environ, start_response)
        status: list[int] = []

        def recording_start(status_line: str, headers: Any, *rest: Any) -> Any:
            status.append(int(status_line.split(" ", 1)[0]))
            return start_response(status_line, headers, *rest)

        answer = self.app(environ, recording_start)
        if status and status[0] < 300:
            try:
                self.trail.add(event(environ, call[0], call[1], call[2]), event_region(environ, call[0]))
            except Exception:  # noqa: BLE001 - recording must never break the call it records
                pass
        return answer

    def _lookup(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if not self.trail.admit():
            return _json_error(start_response, "ThrottlingException", "Rate exceeded")
        try:
            request = json.loads(body(environ) or b"{}")
            answer = self.trail.lookup(request, signing_region(environ))
        except BadLookup as exc:
            return _json_error(start_response, exc.code, exc.message)
        except ValueError as exc:
            return _json_error(start_response, "ValidationException", str(exc))
        payload = json.dumps(answer).encode()
        start_response("200 OK", [("Content-Type", "application/x-amz-json-1.1"),
                                  ("Content-Length", str(len(payload)))])
        return [payload]


def _json_error(start_response: StartResponse, code: str, message: str) -> Iterable[bytes]:
    payload = json.dumps({"__type": code, "message": message}).encode()
    start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.1"),
                                       ("Content-Length", str(len(payload)))])
    return [payload]



def _mutating(service: str, operation: str) -> bool:
    """Whether CloudTrail records this call as a write management event (False for unknown services)."""
    try:
        prefix = _model(service).endpoint_prefix
    except Exception:  # noqa: BLE001 - a service botocore does not know is not recorded
        return False
    return (not operation.startswith(READ_ONLY_PREFIXES)
            and f"{service}.{operation}" not in NOT_RECORDED and f"{prefix}.{operation}" not in NOT_RECORDED)


# -- what the request is ------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _model(service: str) -> Any:
    return _session().get_service_model(service)


@functools.lru_cache(maxsize=1)
def _session() -> Any:
    import botocore.session

    return botocore.session.get_session()


@functools.lru_cache(maxsize=1)
def _json_targets() -> dict[str, str]:
    """X-Amz-Target prefix -> service, for the JSON-protocol services."""
    session = _session()
    targets: dict[str, str] = {}
    for name in session.get_available_services():
        try:
            prefix = session.get_service_model(name).metadata.get("targetPrefix")
        except Exception:  # noqa: BLE001 - a model that does not load is simply not known
            continue
        if prefix:
            targets[prefix] = name
    return targets


# Signing names whose botocore model is named otherwise.
_MODEL_OF_SIGNING = {"tagging": "resourcegroupstaggingapi", "monitoring": "cloudwatch"}


@functools.lru_cache(maxsize=None)
def _json_service(prefix: str, signing: str) -> str | None:
    """The service of a JSON-protocol call: its signing name's model when that model has this
    target prefix (one model loaded), else the map of every model (hundreds: seconds)."""
    name = _MODEL_OF_SIGNING.get(signing, signing)
    if name and name in _session().get_available_services() \
            and _model(name).metadata.get("targetPrefix") == prefix:
        return name
    return _json_targets().get(prefix)


_QUERY_SERVICES = {"monitoring": "cloudwatch"}  # signing name -> model name


def identify(environ: Environ) -> tuple[str, str, dict[str, Any]] | None:
    """(botocore service name, operation, request parameters) of a mutating call, else None.

    The body is parsed only once the call is known to be recorded: PutLogEvents batches
    of megabytes pass straight through.
    """
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        prefix, _, operation = target.rpartition(".")
        service = _json_service(prefix, signing_service(environ))
        if service is None or not _mutating(service, operation):
            return None
        return service, operation, json_body(environ)
    signing = signing_service(environ)
    if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        form = form_fields(environ)
        action = form.pop("Action", None)
        service = _QUERY_SERVICES.get(signing, signing)
        if action and service and _mutating(service, action):
            form.pop("Version", None)
            # Query-protocol keys stay flat (`Tags.member.1.Key`): the top-level names are what matter.
            return service, action, form
        return None
    found = _rest_operation(environ)
    return found if found is not None and _mutating(found[0], found[1]) else None


def _rest_operation(environ: Environ) -> tuple[str, str, dict[str, Any]] | None:
    found = rest_route(environ)
    if found is None:
        return None
    route, match = found
    if not _mutating(route.service, route.operation):
        return route.service, route.operation, {}
    input_shape = _model(route.service).operation_model(route.operation).input_shape
    params: dict[str, Any] = {}
    raw = body(environ)
    try:
        payload = json.loads(raw) if raw and raw.lstrip().startswith(b"{") else {}
    except ValueError:
        payload = {}
    if isinstance(payload, dict):
        params.update(payload)
    members = input_shape.members if input_shape is not None else {}
    uri_members = [n for n, s in members.items() if s.serialization.get("location") == "uri"]
    for label, value in zip(route.labels, match.groups()):
        member = next((m for m in uri_members if members[m].serialization.get("name") == label), label)
        params[member] = value
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    for member, shape in members.items():
        if shape.serialization.get("location") == "querystring":
            wire = shape.serialization.get("name", member)
            if wire in query:
                params[member] = query[wire][0]
    return route.service, route.operation, params


# -- the event ----------------------------------------------------------------------------

def event(environ: Environ, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """The CloudTrail record of one successful call, as LookupEvents returns it."""
    model = _model(service)
    now = time.time()
    key = access_key(environ)
    identity = user_identity(key)
    try:
        shape = model.operation_model(operation).input_shape
    except Exception:  # noqa: BLE001 - an operation botocore does not know: keep names as sent
        shape = None
    request = _camel_hidden(params, shape)
    source = f"{model.endpoint_prefix}.amazonaws.com"
    resources = touched(service, params)
    event_id = str(uuid.uuid4())
    iso = dt.datetime.fromtimestamp(now, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    region = event_region(environ, service)
    record = {
        "eventVersion": "1.08", "userIdentity": identity, "eventTime": iso,
        "eventSource": source, "eventName": operation, "awsRegion": region,
        "sourceIPAddress": environ.get("REMOTE_ADDR", "127.0.0.1"),
        "userAgent": environ.get("HTTP_USER_AGENT", ""), "requestParameters": request,
        "responseElements": None, "requestID": str(uuid.uuid4()), "eventID": event_id,
        "readOnly": False, "resources": [{"ARN": r["ResourceName"], "accountId": ACCOUNT, "type": r["ResourceType"]}
                                         for r in resources if r["ResourceName"].startswith("arn:")],
        "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    return {
        "EventId": event_id, "EventName": operation, "ReadOnly": "false", "AccessKeyId": key,
        "EventTime": now, "EventSource": source, "Username": _username(identity),
        "Resources": resources, "CloudTrailEvent": json.dumps(record),
    }


def event_region(environ: Environ, service: str) -> str:
    """Where AWS records a call: its region, or us-east-1 for a global service's (IAM)."""
    return "us-east-1" if service in GLOBAL_SERVICES else signing_region(environ)



def user_identity(key: str) -> dict[str, Any]:
    """Who a caller is, from its access key: an IAM user's key, an assumed role's, or the root's."""
    try:
        from moto.iam.models import iam_backends

        found = iam_backends[ACCOUNT]["aws"].access_keys.get(key)
    except Exception:  # noqa: BLE001 - IAM not loaded yet: nobody has keys
        found = None
    if found is not None and getattr(found, "role_arn", None):
        role = found.role_arn.split("/")[-1]
        return {"type": "AssumedRole", "principalId": f"{key}:{_session_name(key)}", "accountId": ACCOUNT,
                "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{_session_name(key)}",
                "accessKeyId": key, "sessionContext": {"sessionIssuer": {
                    "type": "Role", "arn": found.role_arn, "userName": role}}}
    if found is not None and found.user_name:
        return {"type": "IAMUser", "principalId": key, "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/{found.user_name}", "accessKeyId": key,
                "userName": found.user_name}
    return {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root",
            "accountId": ACCOUNT, "accessKeyId": key}


def _session_name(key: str) -> str:
    try:
        from moto.sts.models import sts_backends

        roles = sts_backends[ACCOUNT]["global"].assumed_roles
    except Exception:  # noqa: BLE001 - no STS state yet
        roles = []
    return next((r.session_name for r in roles if r.access_key_id == key), "session")


def _username(identity: dict[str, Any]) -> str:
    if identity["type"] == "IAMUser":
        return str(identity["userName"])
    if identity["type"] == "AssumedRole":
        return str(identity["arn"].rsplit("/", 1)[-1])
    return "root"


def touched(service: str, params: dict[str, Any]) -> list[dict[str, str]]:
    """The resources a call names (LookupEvents' ResourceType / ResourceName)."""
    found: list[dict[str, str]] = []
    for member, kind in RESOURCE_MEMBERS.get(service, {}).items():
        value = params.get(member)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item:
                name = _short_name(service, item)
                if not any(r["ResourceName"] == name for r in found):
                    found.append({"ResourceType": kind, "ResourceName": name})
    return found


def _short_name(service: str, value: str) -> str:
    """A function given by ARN is named by its name, as the console shows it."""
    if service == "lambda" and value.startswith("arn:"):
        return value.split(":")[6] if len(value.split(":")) > 6 else value
    return value


def _camel_hidden(value: Any, shape: Any, key: str = "") -> Any:
    """Request parameters as CloudTrail writes them: lowerCamel member names, secrets hidden."""
    if shape is not None and shape.metadata.get("sensitive"):
        return HIDDEN
    if key and _SECRET_KEY.search(key):
        return HIDDEN
    if isinstance(value, dict):
        members = getattr(shape, "members", None) if shape is not None else None
        if shape is not None and shape.type_name == "map":
            return {k: _camel_hidden(v, shape.value, k) for k, v in value.items()}
        return {_lower_camel(k): _camel_hidden(v, members.get(k) if members else None, k)
                for k, v in value.items()}
    if isinstance(value, list):
        item = getattr(shape, "member", None) if shape is not None else None
        return [_camel_hidden(v, item) for v in value]
    return value


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]
