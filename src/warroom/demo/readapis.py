"""Read APIs moto lacks or answers with a 500, served inside the offline account as AWS documents them.

- CloudWatch DescribeAlarmHistory (`alarm_history.py`) and GetMetricData with a percentile
  statistic (`metric_percentiles.py`).
- CodeBuild ImportSourceCredentials, ListSourceCredentials, DeleteSourceCredentials.
- Lambda GetAccountSettings (a REST path moto has no route for: answered by `ReadApis`).
- SNS ListSubscriptionsByTopic with a malformed topic ARN: InvalidParameter, not a 500.
- Secrets Manager ListSecretVersionIds: ResourceNotFoundException for a missing secret, not a 500;
  each version dated when it was created, not at the listing.
- IAM SimulatePrincipalPolicy (`iam_simulator.py`), agreeing with the server's injected
  `deny` faults.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from warroom.demo import alarm_history, iam_simulator, metric_percentiles
from warroom.demo.operations import signing_region
from warroom.demo.wire import ACCOUNT, App, Environ, StartResponse, backend_state, json_answer, service_error

ACCOUNT_SETTINGS_PATH = "/2016-08-19/account-settings"

# AWS's documented Lambda defaults (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
LAMBDA_TOTAL_CODE_SIZE = 80_530_636_800
LAMBDA_CODE_SIZE_UNZIPPED = 262_144_000
LAMBDA_CODE_SIZE_ZIPPED = 52_428_800
LAMBDA_CONCURRENT_EXECUTIONS = 1000

_TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?")

_patched = False
_lock = threading.Lock()


class ReadApis:
    """Serves Lambda GetAccountSettings (no moto route); passes every other request on."""

    def __init__(self, app: App) -> None:
        self.app = app
        install_patches()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "").rstrip("/")
        if path == ACCOUNT_SETTINGS_PATH and environ.get("REQUEST_METHOD", "GET") == "GET":
            return json_answer(start_response, "200 OK", lambda_account_settings(signing_region(environ)))
        return self.app(environ, start_response)


def install_patches() -> None:
    """Teach moto's backends and responses the read APIs above (idempotent)."""
    global _patched
    if _patched:
        return
    from moto.codebuild.responses import CodeBuildResponse
    from moto.secretsmanager.models import SecretsManagerBackend
    from moto.sns.models import SNSBackend

    alarm_history.install()
    metric_percentiles.install()
    iam_simulator.install()
    CodeBuildResponse.import_source_credentials = _import_source_credentials  # type: ignore[attr-defined]
    CodeBuildResponse.list_source_credentials = _list_source_credentials  # type: ignore[attr-defined]
    CodeBuildResponse.delete_source_credentials = _delete_source_credentials  # type: ignore[attr-defined]
    SNSBackend.list_subscriptions_by_topic = _valid_topic_arn(SNSBackend.list_subscriptions_by_topic)  # type: ignore[method-assign]
    SecretsManagerBackend.list_secret_version_ids = _versions_of_a_secret(  # type: ignore[method-assign]
        SecretsManagerBackend.list_secret_version_ids)
    _patched = True


# --- CodeBuild source credentials -----------------------------------------------------------

_SERVER_TYPES = ("GITHUB", "BITBUCKET", "GITHUB_ENTERPRISE", "GITLAB", "GITLAB_SELF_MANAGED")
_AUTH_TYPES = ("OAUTH", "BASIC_AUTH", "PERSONAL_ACCESS_TOKEN", "CODECONNECTIONS", "SECRETS_MANAGER")


def _source_credentials(backend: Any) -> dict[str, dict[str, str]]:
    """arn -> stored credential (with its token, which no answer ever includes)."""
    return backend_state(backend, "warroom_source_credentials", dict)


def _import_source_credentials(self: Any) -> Any:
    """CodeBuild ImportSourceCredentials: one credential per server type and region."""
    from moto.core.responses import ActionResult

    token, server, auth = self._get_param("token"), self._get_param("serverType"), self._get_param("authType")
    username, overwrite = self._get_param("username"), self._get_param("shouldOverwrite")
    if not token or server not in _SERVER_TYPES or auth not in _AUTH_TYPES:
        raise service_error("InvalidInputException", "token, serverType and authType are required")
    if auth == "BASIC_AUTH" and (server != "BITBUCKET" or not username):
        raise service_error("InvalidInputException", "BASIC_AUTH needs a username and is for Bitbucket only")
    arn = f"arn:aws:codebuild:{self.region}:{self.current_account}:token/{server.lower()}"
    stored = _source_credentials(self.codebuild_backend)
    with _lock:
        if arn in stored and overwrite is False:
            raise service_error("ResourceAlreadyExistsException", f"Access token already exists for server type {server}")
        stored[arn] = {"arn": arn, "serverType": server, "authType": auth, "token": token,
                       "username": username or ""}
    return ActionResult({"arn": arn})


def _list_source_credentials(self: Any) -> Any:
    """CodeBuild ListSourceCredentials; a connection or secret ARN is shown as the resource."""
    from moto.core.responses import ActionResult

    infos = []
    with _lock:
        for item in _source_credentials(self.codebuild_backend).values():
            info = {"arn": item["arn"], "serverType": item["serverType"], "authType": item["authType"]}
            if item["authType"] in ("CODECONNECTIONS", "SECRETS_MANAGER"):
                info["resource"] = item["token"]  # an ARN, not a secret
            infos.append(info)
    return ActionResult({"sourceCredentialsInfos": infos})


def _delete_source_credentials(self: Any) -> Any:
    """CodeBuild DeleteSourceCredentials."""
    from moto.core.responses import ActionResult

    arn = self._get_param("arn")
    with _lock:
        if _source_credentials(self.codebuild_backend).pop(arn, None) is None:
            raise service_error("ResourceNotFoundException", f"Source credential {arn} does not exist")
    return ActionResult({"arn": arn})


# --- Lambda account settings ----------------------------------------------------------------


def lambda_account_settings(region: str, account: str = ACCOUNT) -> dict[str, Any]:
    """GetAccountSettings: AWS's default limits, and the usage of the region's functions."""
    from moto.awslambda.models import lambda_backends

    storage = lambda_backends[account][region]._lambdas
    total_code = count = reserved = 0
    for group in list(storage._functions.values()):
        latest = group["latest"]
        count += 1
        # Every published version keeps its own package, so AWS counts each one.
        total_code += int(latest.code_size or 0) + sum(int(v.code_size or 0) for v in group["versions"])
        reserved += int(latest.reserved_concurrency or 0)
    limit = int(os.environ.get("MOTO_LAMBDA_CONCURRENCY_QUOTA") or LAMBDA_CONCURRENT_EXECUTIONS)
    return {
        "AccountLimit": {"TotalCodeSize": LAMBDA_TOTAL_CODE_SIZE, "CodeSizeUnzipped": LAMBDA_CODE_SIZE_UNZIPPED,
                         "CodeSizeZipped": LAMBDA_CODE_SIZE_ZIPPED, "ConcurrentExecutions": limit,
                         "UnreservedConcurrentExecutions": limit - reserved},
        "AccountUsage": {"TotalCodeSize": total_code, "FunctionCount": count},
    }


# --- SNS ------------------------------------------------------------------------------------


def _valid_topic_arn(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto parses any TopicArn as an ARN and answers a malformed one with a 500; AWS says InvalidParameter."""
    def list_subscriptions_by_topic(self: Any, topic_arn: str, *args: Any, **kwargs: Any) -> Any:
        if not _TOPIC_ARN.fullmatch(topic_arn or ""):
            from moto.sns.exceptions import InvalidParameterValue

            raise InvalidParameterValue("Invalid parameter: TopicArn")
        return original(self, topic_arn, *args, **kwargs)

    return list_subscriptions_by_topic


def _versions_of_a_secret(original: Callable[..., str]) -> Callable[..., str]:
    """ListSecretVersionIds as AWS answers it. moto answers a missing secret with a 500 (a
    KeyError), which clients retry for seconds: AWS says ResourceNotFoundException. And moto
    dates every version at the time of the listing: AWS gives the time it was created, which
    is when a secret changed (`warroom changes`, a finding's suspects)."""
    def list_secret_version_ids(self: Any, secret_id: str) -> str:
        from moto.secretsmanager.exceptions import SecretNotFoundException

        if not self._is_valid_identifier(secret_id):
            raise SecretNotFoundException()
        answer = json.loads(original(self, secret_id))
        versions = self.secrets[secret_id].versions
        for item in answer.get("Versions", []):
            created = versions.get(item.get("VersionId"), {}).get("createdate")
            if created is not None:
                item["CreatedDate"] = created
        return json.dumps(answer)

    return list_secret_version_ids
