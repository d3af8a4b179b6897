"""The one place AWS clients are built: profile, region, endpoint, retries, and errors in plain words."""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from warroom.errors import UserError

if TYPE_CHECKING:
    from warroom.aws.credentials import CredentialWatch

DEFAULT_RETRY = {"mode": "standard", "max_attempts": 5}
# botocore gives its loggers a NullHandler; aiobotocore does not, so Python's last-resort
# handler would print its warnings (an SSO token that failed to refresh, with a traceback)
# above the one line that says what to do.
logging.getLogger("aiobotocore").addHandler(logging.NullHandler())


@dataclass(frozen=True)
class AwsOptions:
    """What selects an AWS account, region and endpoint; None means the standard chain."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 5
    retry_mode: str = "standard"

    def client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if self.region:
            kwargs["region_name"] = self.region
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        return kwargs

    def botocore_config(self, config_class: type) -> Any:
        return config_class(
            connect_timeout=self.connect_timeout, read_timeout=self.read_timeout,
            retries={"mode": self.retry_mode, "max_attempts": self.max_attempts},
            # moto serves every service on one host; real AWS does not need the prefix either
            # for the APIs we call (StartLiveTail's "streaming-" prefix breaks local endpoints).
            inject_host_prefix=not bool(self.endpoint_url),
        )


class AwsSession:
    """Builds async (aiobotocore) and sync (boto3) clients from one AwsOptions.

    Async clients are cached per service until `renew` or `aclose`. Every call they make
    is reported to `credentials`, which knows when the credentials have expired.
    """

    def __init__(self, options: AwsOptions | None = None) -> None:
        self.options = options or AwsOptions()
        self._aio_session: Any = None
        self._stack = contextlib.AsyncExitStack()
        self._clients: dict[str, Any] = {}
        self._boto3_session: Any = None
        self.generation = 0  # renewals so far: calls of older clients say nothing of the new credentials
        self._credentials: CredentialWatch | None = None

    @property
    def credentials(self) -> CredentialWatch:
        """Whether the credentials are known to be expired, and waiting for new ones."""
        if self._credentials is None:
            from warroom.aws.credentials import CredentialWatch

            self._credentials = CredentialWatch(self)
        return self._credentials

    def renew(self) -> None:
        """Read the credential chain again: the next client comes from a new botocore session.

        Clients handed out before keep their old credentials (ask `client()` again); they
        stay open until `aclose`, since a task may still be using one.
        """
        self.generation += 1
        self._aio_session = None
        self._boto3_session = None
        self._clients = {}

    # -- async ------------------------------------------------------------------------

    def _aio(self) -> Any:
        if self._aio_session is None:
            from aiobotocore.session import AioSession
            import botocore.exceptions

            from warroom.aws.service_model import share_models

            try:
                self._aio_session = share_models(AioSession(profile=self.options.profile))
                self._aio_session.get_scoped_config()  # surfaces ProfileNotFound now
            except botocore.exceptions.ProfileNotFound as exc:
                raise UserError(explain(exc)) from exc
            self.credentials.hooks(self._aio_session, self.generation)
        return self._aio_session

    async def client(self, service: str) -> Any:
        """A cached aiobotocore client for `service`."""
        if service not in self._clients:
            from aiobotocore.config import AioConfig

            try:
                creator = self._aio().create_client(
                    service, config=self.options.botocore_config(AioConfig),
                    **self.options.client_kwargs())
                self._clients[service] = await self._stack.enter_async_context(creator)
            except Exception as exc:  # noqa: BLE001 - translated for the user
                raise UserError(explain(exc, self.options)) from exc
        return self._clients[service]

    async def aclose(self) -> None:
        self._clients.clear()
        await self._stack.aclose()

    async def __aenter__(self) -> AwsSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def region(self) -> str | None:
        if self.options.region:
            return self.options.region
        try:
            return self._aio().get_config_variable("region")
        except UserError:
            return None

    async def identity(self) -> dict[str, str]:
        """Caller identity (Account, Arn, UserId); raises UserError with the fix when it fails."""
        sts = await self.client("sts")
        try:
            answer = await sts.get_caller_identity()
        except Exception as exc:  # noqa: BLE001
            raise UserError(explain(exc, self.options)) from exc
        return {k: answer[k] for k in ("Account", "Arn", "UserId") if k in answer}

    # -- sync -------------------------------------------------------------------------

    def sync_client(self, service: str) -> Any:
        """A boto3 client with the same options (for line-mode commands and tests)."""
        import boto3
        import botocore.config
        import botocore.exceptions

        if self._boto3_session is None:
            try:
                self._boto3_session = boto3.session.Session(profile_name=self.options.profile)
            except botocore.exceptions.ProfileNotFound as exc:
                raise UserError(explain(exc)) from exc
            self.credentials.hooks(self._boto3_session.events, self.generation)
        try:
            return self._boto3_session.client(
                service, config=self.options.botocore_config(botocore.config.Config),
                **self.options.client_kwargs())
        except Exception as exc:  # noqa: BLE001
            raise UserError(explain(exc, self.options)) from exc


_HTML_TITLE = re.compile(r"(?is)<title>(.*?)</title>")

_CREDENTIAL_CODES = {
    "InvalidClientTokenId", "UnrecognizedClientException", "InvalidAccessKeyId",
    "SignatureDoesNotMatch", "IncompleteSignature", "AuthFailure",
}
# What AWS answers for credentials past their end.
EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"})


DENIED_CODES = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
                "AuthorizationError", "UnauthorizedAccess"}
# botocore client names whose IAM action prefix differs.
_IAM_PREFIX = {"apigatewayv2": "apigateway", "resourcegroupstaggingapi": "tag"}


def denied_action(exc: BaseException, service: str) -> str | None:
    """The IAM action (`lambda:ListFunctions`) an AccessDenied error was about, else None."""
    operation = getattr(exc, "operation_name", "")
    if error_code(exc) not in DENIED_CODES or not operation:
        return None
    return f"{_IAM_PREFIX.get(service, service)}:{operation}"


def error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None


def explain(exc: BaseException, options: AwsOptions | None = None) -> str:
    """One line saying what went wrong with an AWS call and how to fix it."""
    import botocore.exceptions as bx

    endpoint = (options.endpoint_url if options else None) or "AWS"
    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, bx.NoCredentialsError):
        return ("no AWS credentials found: run `aws configure` or `aws sso login`, set AWS_PROFILE, "
                "or pass --profile (no account? try `warroom demo`)")
    if isinstance(exc, bx.ProfileNotFound):
        return f"{exc}: check the name with `aws configure list-profiles`"
    if isinstance(exc, bx.NoRegionError):
        return "no AWS region set: pass --region or set AWS_REGION (e.g. us-east-1)"
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError)):
        return f"cannot reach {endpoint}: check --endpoint-url, the network or a proxy ({exc})"
    if isinstance(exc, (bx.ReadTimeoutError, bx.ConnectionClosedError)):
        return f"{endpoint} stopped answering: {exc}"
    from warroom.aws.credentials import renewal_hint, sso_expired

    if sso_expired(exc):
        return f"the SSO session has expired: {renewal_hint(options or AwsOptions(), sso=True)} ({exc})"
    code = error_code(exc)
    if code in EXPIRED_CODES:
        return f"the AWS credentials have expired ({code}): {renewal_hint(options or AwsOptions())}"
    if code in _CREDENTIAL_CODES:
        return (f"AWS rejected the credentials ({code}): check the access key and secret, "
                "or the profile, with `aws sts get-caller-identity`")
    if code in DENIED_CODES:
        operation = getattr(exc, "operation_name", "")
        return f"access denied{f' to {operation}' if operation else ''}: {_message(exc)}"
    if code:
        return f"{code}: {_message(exc)}"
    return str(exc) or type(exc).__name__


def _message(exc: BaseException, limit: int = 300) -> str:
    response = getattr(exc, "response", None)
    text = str(exc)
    if isinstance(response, dict):
        text = response.get("Error", {}).get("Message") or text
    # An endpoint that is not quite AWS may answer with a whole HTML page: keep its title.
    title = _HTML_TITLE.search(text) if "<html" in text.lower() else None
    if title:
        text = f"the endpoint answered: {title.group(1).strip()}"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
