"""States moto cannot produce, emulated inside the server process (imported there only).

moto never fails a CloudFormation stack or a CodeBuild build (`BatchGetBuilds` even
marks every build SUCCEEDED when read) and confirms every email subscription at once.
This WSGI middleware serves `POST /_warroom/world` and writes such states straight into
moto's backends, so that the real DescribeStackEvents, DescribeStacks, BatchGetBuilds and
ListSubscriptionsByTopic calls return them.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from warroom.demo.control import CONTROL_PATH
from warroom.demo.operations import form_fields, json_body

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
App = Callable[[Environ, StartResponse], Iterable[bytes]]

ACCOUNT = "123456789012"
REGION = "us-east-1"

_pinned_builds: set[str] = set()      # build ids whose status we set; BatchGetBuilds keeps it
_pending: dict[str, int] = {}         # subscription arn -> confirmation requests resent
_lock = threading.Lock()
_patched = False


class WorldControl:
    """Serves the control endpoint; passes every other request to moto."""

    def __init__(self, app: App) -> None:
        self.app = app
        install_patches()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET", "").endswith("CodeBuild_20161006.UpdateProject"):
            return self._update_project(environ, start_response)
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith("/v2/apis/") and path.endswith("/deployments"):
            return self._deployments(environ, start_response, path.split("/")[3], method)
        if path.startswith("/2019-09-30/functions/") and path.endswith("/provisioned-concurrency"):
            return self._provisioned(environ, start_response, path.split("/")[3], method)
        if method == "POST" and form_fields(environ).get("Action") == "CancelUpdateStack":
            return self._cancel_update(environ, start_response)
        if environ.get("PATH_INFO") != CONTROL_PATH:
            return self.app(environ, start_response)
        try:
            body = json_body(environ)
            action = ACTIONS[body.pop("action")]
            with _lock:
                result = action(**body)
            status = "200 OK"
        except Exception as exc:  # noqa: BLE001 - reported to the caller, the server keeps running
            result, status = {"error": f"{type(exc).__name__}: {exc}"}, "400 Bad Request"
        return _json(start_response, status, result)

    def _update_project(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """moto has no UpdateProject; the build-timeout and buildspec fixes need it."""
        from moto.codebuild.models import codebuild_backends

        body = json_body(environ)
        projects = codebuild_backends[ACCOUNT][REGION].codebuild_projects
        project = projects.get(body.get("name", ""))
        if project is None:
            return _json(start_response, "400 Bad Request", {
                "__type": "ResourceNotFoundException",
                "message": f"Project cannot be found: arn:aws:codebuild:{REGION}:{ACCOUNT}:project/{body.get('name')}"},
                "application/x-amz-json-1.1")
        with _lock:
            for key in ("description", "source", "artifacts", "environment", "timeoutInMinutes",
                        "queuedTimeoutInMinutes", "logsConfig", "sourceVersion", "cache"):
                if key in body:
                    project.project_metadata[key] = body[key]
            if "serviceRole" in body:
                project.service_role = project.project_metadata["serviceRole"] = body["serviceRole"]
            project.project_metadata["lastModifiedDate"] = _now().timestamp()
        return _json(start_response, "200 OK", {"project": project.project_metadata},
                     "application/x-amz-json-1.1")


    def _deployments(self, environ: Environ, start_response: StartResponse, api_id: str,
                     method: str) -> Iterable[bytes]:
        """moto has no API Gateway v2 deployments; the WebSocket fix creates one."""
        items = _deployments.setdefault(api_id, [])
        if method == "POST":
            body = json_body(environ)
            item = {"deploymentId": f"d{len(items) + 1:05d}x", "deploymentStatus": "DEPLOYED",
                    "createdDate": _iso(_now()), "autoDeployed": False,
                    "description": body.get("description", "")}
            items.append(item)
            if body.get("stageName"):
                _stage_deployed(api_id, body["stageName"], item["deploymentId"])
            return _json(start_response, "201 Created", item)
        return _json(start_response, "200 OK", {"items": items})

    def _provisioned(self, environ: Environ, start_response: StartResponse, function: str,
                     method: str) -> Iterable[bytes]:
        """moto has no provisioned concurrency; the cold-start fix sets it."""
        from urllib.parse import parse_qs

        qualifier = parse_qs(environ.get("QUERY_STRING", "")).get("Qualifier", ["$LATEST"])[0]
        key = f"{function}:{qualifier}"
        if method == "PUT":
            wanted = int(json_body(environ).get("ProvisionedConcurrentExecutions", 0))
            _provisioned[key] = {
                "RequestedProvisionedConcurrentExecutions": wanted,
                "AvailableProvisionedConcurrentExecutions": wanted,
                "AllocatedProvisionedConcurrentExecutions": wanted,
                "Status": "READY", "LastModified": _iso(_now())}
            return _json(start_response, "202 Accepted", _provisioned[key])
        if method == "DELETE":
            _provisioned.pop(key, None)
            return _json(start_response, "204 No Content", {})
        if key not in _provisioned:
            start_response("404 Not Found", [("Content-Type", "application/json"),
                                             ("x-amzn-ErrorType", "ProvisionedConcurrencyConfigNotFoundException")])
            return [json.dumps({"Type": "User", "message": "No Provisioned Concurrency Config found "
                                f"for this function: {function}:{qualifier}"}).encode()]
        return _json(start_response, "200 OK", _provisioned[key])

    def _cancel_update(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """moto has no CancelUpdateStack; the deployment-timeout fix calls it."""
        name = form_fields(environ).get("StackName", "")
        with _lock:
            current = stack_status(name)["status"]
            if current != "UPDATE_IN_PROGRESS":
                body = ("<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code>"
                        "<Message>CancelUpdateStack cannot be called from current stack status"
                        "</Message></Error><RequestId>0</RequestId></ErrorResponse>").encode()
                start_response("400 Bad Request", [("Content-Type", "text/xml"),
                                                   ("Content-Length", str(len(body)))])
                return [body]
            stack_events(name, [
                {"status": "UPDATE_ROLLBACK_IN_PROGRESS", "reason": "User Initiated"},
                {"status": "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"},
                {"status": "UPDATE_ROLLBACK_COMPLETE"}], stack_status="UPDATE_ROLLBACK_COMPLETE")
        body = (b'<CancelUpdateStackResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">'
                b"<ResponseMetadata><RequestId>0</RequestId></ResponseMetadata></CancelUpdateStackResponse>")
        start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
        return [body]


_deployments: dict[str, list[dict[str, Any]]] = {}
_provisioned: dict[str, dict[str, Any]] = {}


def _stage_deployed(api_id: str, stage: str, deployment_id: str) -> None:
    from moto.apigatewayv2.models import apigatewayv2_backends

    try:
        target = apigatewayv2_backends[ACCOUNT][REGION].apis[api_id].stages[stage]
        target.deployment_id = deployment_id
    except (KeyError, AttributeError):  # the deployment is recorded either way
        pass


def _json(start_response: StartResponse, status: str, result: Any,
          content_type: str = "application/json") -> Iterable[bytes]:
    payload = json.dumps(result, default=str).encode()
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(payload)))])
    return [payload]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# -- CloudFormation ---------------------------------------------------------------------

def stack_events(stack: str, events: list[dict[str, Any]], stack_status: str | None = None) -> dict[str, Any]:
    """Append events (oldest first) to a stack and optionally set its status."""
    from moto.cloudformation.models import Event, cloudformation_backends

    target = cloudformation_backends[ACCOUNT][REGION].get_stack(stack)
    base = _now()
    for offset, spec in enumerate(events):
        logical = spec.get("logical_id", target.name)
        event = Event(
            stack_id=target.stack_id, stack_name=target.name, logical_resource_id=logical,
            physical_resource_id=spec.get("physical_id", target.stack_id if logical == target.name else ""),
            resource_type=spec.get("resource_type", "AWS::CloudFormation::Stack"),
            resource_status=spec["status"], resource_status_reason=spec.get("reason"),
            resource_properties=None)
        # Distinct, ordered timestamps: consumers sort and de-duplicate on them.
        event.timestamp = base + dt.timedelta(milliseconds=offset)
        target.events.append(event)
    if stack_status:
        target.status = stack_status
        if stack_status.endswith("_COMPLETE") or stack_status.endswith("_FAILED"):
            reason = next((e.get("reason") for e in reversed(events) if e.get("reason")), None)
            target.status_reason = reason
    return {"stack": target.name, "status": target.status, "events": len(target.events)}


def stack_status(stack: str) -> dict[str, Any]:
    from moto.cloudformation.models import cloudformation_backends

    try:
        target = cloudformation_backends[ACCOUNT][REGION].get_stack(stack)
    except Exception:  # noqa: BLE001 - a deleted stack is simply absent
        return {"stack": stack, "status": None}
    return {"stack": target.name, "status": target.status}


# -- CodeBuild --------------------------------------------------------------------------

PHASES = ("SUBMITTED", "QUEUED", "PROVISIONING", "DOWNLOAD_SOURCE", "INSTALL", "PRE_BUILD",
          "BUILD", "POST_BUILD", "UPLOAD_ARTIFACTS", "FINALIZING", "COMPLETED")


def build(project: str, build_id: str, status: str, failed_phase: str | None = None,
          message: str = "", minutes: float = 3.0, source_version: str = "refs/heads/main",
          log_stream: str | None = None, status_code: str = "COMMAND_EXECUTION_ERROR",
          number: int = 1) -> dict[str, Any]:
    """Record a finished build of `project` with `status` (SUCCEEDED, FAILED, TIMED_OUT, ...)."""
    from moto.codebuild.models import codebuild_backends

    backend = codebuild_backends[ACCOUNT][REGION]
    project_obj = backend.codebuild_projects[project]
    end = _now()
    start = end - dt.timedelta(minutes=minutes)
    phases: list[dict[str, Any]] = []
    cursor = start
    failed = False
    for phase in PHASES:
        if failed:
            if phase not in ("FINALIZING", "COMPLETED"):
                continue
        entry: dict[str, Any] = {"phaseType": phase, "startTime": _iso(cursor)}
        if phase != "COMPLETED":
            span = dt.timedelta(seconds=(minutes * 60) / len(PHASES))
            entry.update(endTime=_iso(cursor + span), durationInSeconds=int(span.total_seconds()))
            cursor += span
            entry["phaseStatus"] = "SUCCEEDED"
            if phase == failed_phase:
                entry["phaseStatus"] = status if status != "SUCCEEDED" else "FAILED"
                entry["contexts"] = [{"statusCode": status_code, "message": message}]
                failed = True
        phases.append(entry)
    stream = log_stream or build_id.split(":", 1)[1]
    group = f"/aws/codebuild/{project}"
    record = {
        "id": build_id,
        "arn": f"arn:aws:codebuild:{REGION}:{ACCOUNT}:build/{build_id}",
        "buildNumber": number, "startTime": _iso(start), "endTime": _iso(end),
        "currentPhase": "COMPLETED", "buildStatus": status, "sourceVersion": source_version,
        "projectName": project, "phases": phases,
        "source": project_obj.project_metadata.get("source", {}) if hasattr(project_obj, "project_metadata") else {},
        "secondarySources": [], "secondarySourceVersions": [], "secondaryArtifacts": [],
        "artifacts": {"location": ""}, "cache": {"type": "NO_CACHE"},
        "environment": {"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                        "computeType": "BUILD_GENERAL1_SMALL", "environmentVariables": [],
                        "privilegedMode": False, "imagePullCredentialsType": "CODEBUILD"},
        "serviceRole": project_obj.service_role,
        "logs": {"groupName": group, "streamName": stream,
                 "deepLink": f"https://console.aws.amazon.com/cloudwatch/home?region={REGION}"
                             f"#logEvent:group={group};stream={stream}",
                 "cloudWatchLogsArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:log-stream:{stream}",
                 "cloudWatchLogs": {"status": "ENABLED", "groupName": group}},
        "timeoutInMinutes": project_obj.project_metadata.get("timeoutInMinutes", 60)
        if hasattr(project_obj, "project_metadata") else 60,
        "queuedTimeoutInMinutes": 480, "buildComplete": True, "initiator": "kiro-worker-test-poller",
    }
    backend.build_history[project].append(build_id)
    backend.build_metadata_history[project].append(record)
    _pinned_builds.add(build_id)
    return {"id": build_id, "status": status}


def _batch_get_builds(original: Callable[..., list[dict[str, Any]]]) -> Callable[..., list[dict[str, Any]]]:
    def batch_get_builds(self: Any, ids: list[str]) -> list[dict[str, Any]]:
        pinned = [b for history in self.build_metadata_history.values() for b in history
                  if b["id"] in ids and b["id"] in _pinned_builds]
        rest = [i for i in ids if i not in _pinned_builds]
        return pinned + (original(self, rest) if rest else [])

    return batch_get_builds


# -- SNS --------------------------------------------------------------------------------

class _PendingView:
    """How a subscription awaiting email confirmation lists: no ARN yet."""

    def __init__(self, subscription: Any) -> None:
        self._subscription = subscription
        self.arn = "PendingConfirmation"
        self.subscription_arn = "PendingConfirmation"

    def __getattr__(self, name: str) -> Any:
        return getattr(self._subscription, name)


def _find_subscription(topic_arn: str, endpoint: str) -> Any:
    from moto.sns.models import sns_backends

    backend = sns_backends[ACCOUNT][REGION]
    for subscription in backend.subscriptions.values():
        if subscription.topic.arn == topic_arn and subscription.endpoint == endpoint:
            return subscription
    raise KeyError(f"no subscription of {endpoint} to {topic_arn}")


def subscription_pending(topic_arn: str, endpoint: str, pending: bool) -> dict[str, Any]:
    """Mark an email subscription as awaiting confirmation (or confirmed)."""
    subscription = _find_subscription(topic_arn, endpoint)
    subscription.attributes["PendingConfirmation"] = "true" if pending else "false"
    subscription.attributes["ConfirmationWasAuthenticated"] = "false" if pending else "true"
    subscription.confirmed = not pending
    if pending:
        _pending.setdefault(subscription.arn, 0)
    else:
        _pending.pop(subscription.arn, None)
    return subscription_state(topic_arn, endpoint)


def subscription_state(topic_arn: str, endpoint: str) -> dict[str, Any]:
    """Whether it is pending, and how many times the confirmation was requested again."""
    subscription = _find_subscription(topic_arn, endpoint)
    return {"pending": subscription.arn in _pending, "resent": _pending.get(subscription.arn, 0)}


def _list(original: Callable[..., Any]) -> Callable[..., Any]:
    def listing(self: Any, *args: Any, **kwargs: Any) -> Any:
        subscriptions, token = original(self, *args, **kwargs)
        return [(_PendingView(s) if s.arn in _pending else s) for s in subscriptions], token

    return listing


def _subscribe(original: Callable[..., Any]) -> Callable[..., Any]:
    def subscribe(self: Any, topic_arn: str, endpoint: str, protocol: str) -> Any:
        subscription = original(self, topic_arn, endpoint, protocol)
        if subscription.arn in _pending:  # AWS resends the confirmation email
            _pending[subscription.arn] += 1
        return subscription

    return subscribe


def _update_configuration(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto ignores TracingConfig in UpdateFunctionConfiguration; the X-Ray fix sets it."""
    def update_configuration(self: Any, config_updates: dict[str, Any]) -> Any:
        if isinstance(config_updates.get("TracingConfig"), dict):
            self.tracing_config = {"Mode": config_updates["TracingConfig"].get("Mode", "PassThrough")}
        return original(self, config_updates)

    return update_configuration


def install_patches() -> None:
    """Teach moto's backends to keep the emulated states (idempotent)."""
    global _patched
    if _patched:
        return
    from moto.awslambda.models import LambdaFunction
    from moto.codebuild.models import CodeBuildBackend
    from moto.sns.models import SNSBackend

    LambdaFunction.update_configuration = _update_configuration(LambdaFunction.update_configuration)  # type: ignore[method-assign]

    CodeBuildBackend.batch_get_builds = _batch_get_builds(CodeBuildBackend.batch_get_builds)  # type: ignore[method-assign]
    SNSBackend.list_subscriptions = _list(SNSBackend.list_subscriptions)  # type: ignore[method-assign]
    SNSBackend.list_subscriptions_by_topic = _list(SNSBackend.list_subscriptions_by_topic)  # type: ignore[method-assign]
    SNSBackend.subscribe = _subscribe(SNSBackend.subscribe)  # type: ignore[method-assign]
    from moto.secretsmanager.models import SecretsManagerBackend

    SecretsManagerBackend.update_secret_version_stage = _stage_moved(  # type: ignore[method-assign]
        SecretsManagerBackend.update_secret_version_stage)
    _patched = True


def _stage_moved(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto moves the AWSCURRENT label but GetSecretValue keeps reading the old version; AWS follows it."""
    def update_secret_version_stage(self: Any, secret_id: str, version_stage: str,
                                    remove_from_version_id: str, move_to_version_id: str) -> Any:
        answer = original(self, secret_id, version_stage, remove_from_version_id, move_to_version_id)
        if version_stage == "AWSCURRENT" and move_to_version_id:
            self.secrets[secret_id].set_default_version_id(move_to_version_id)
        return answer

    return update_secret_version_stage


def reset() -> dict[str, Any]:
    _pinned_builds.clear()
    _pending.clear()
    _deployments.clear()
    _provisioned.clear()
    return {}


def deployments(api_id: str) -> dict[str, Any]:
    return {"items": _deployments.get(api_id, [])}


def provisioned(function: str) -> dict[str, Any]:
    """Provisioned concurrency set on any qualifier of `function`."""
    return {k.split(":", 1)[1]: v for k, v in _provisioned.items() if k.split(":", 1)[0] == function}


ACTIONS: dict[str, Callable[..., dict[str, Any]]] = {
    "stack_events": stack_events,
    "stack_status": stack_status,
    "build": build,
    "subscription_pending": subscription_pending,
    "subscription_state": subscription_state,
    "reset": reset,
    "deployments": deployments,
    "provisioned": provisioned,
}
