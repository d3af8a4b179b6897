"""Credentials that expire mid-session: noticing it, saying how to renew them, waiting for new ones.

An on-call engineer's SSO session or assumed role ends in the middle of the night. Every
client an AwsSession builds reports each call's outcome to the session's CredentialWatch
(botocore's after-call and after-call-error events), so an expiry is known wherever it
happens, without the callers doing anything. Then:

- `watch.known_expired` is True and `watch.state.line` is one line for a status bar: when,
  what AWS said, and the command that renews them for this profile;
- `await watch.wait_until_valid()` re-reads the credential chain every few seconds (STS
  GetCallerIdentity with a fresh botocore session, so files, environment, SSO cache and
  credential processes are read again) and returns once they work; the session's cached
  clients are then dropped, so a client asked for afterwards uses the new credentials;
- a runner consults `known_expired` before a mutating call and awaits `wait_until_valid`:
  no change is sent with credentials known to be expired.

Listeners (`watch.listen(callback)`) are told every change: expired since T with the hint,
each re-read that still failed, recovered. They are called in the thread that made the
call that noticed it (the event loop's, for async clients).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from warroom.aws.session import EXPIRED_CODES, AwsOptions, error_code

if TYPE_CHECKING:
    from warroom.aws.session import AwsSession

# What AWS answers for credentials it does not know: a typo at start, but revoked (a role
# session cut short, a deleted key) once the same credentials have worked.
REVOKED_CODES = frozenset({"InvalidClientTokenId", "UnrecognizedClientException", "InvalidAccessKeyId"})
OTHER_TOOLS = "re-run the tool that sets them (e.g. aws-vault, saml2aws) or export new keys"
EVERY = 5.0  # seconds between re-reads of the credential chain
_SOURCE_DEPTH = 8  # source_profile links followed to find the SSO profile behind a role


def sso_expired(exc: BaseException) -> bool:
    """botocore's errors for an SSO token past its end (raised while signing a call)."""
    import botocore.exceptions as bx

    return isinstance(exc, (bx.TokenRetrievalError, bx.SSOTokenLoadError, bx.UnauthorizedSSOTokenError))


def expiry_reason(exc: BaseException, worked: bool = False) -> str | None:
    """What in `exc` says the credentials expired (the error code, or botocore's error
    name), else None. `worked`: they succeeded before, so a rejection means revoked."""
    if sso_expired(exc):
        return type(exc).__name__
    code = error_code(exc)
    return code if code_expired(code, worked) else None


def code_expired(code: str | None, worked: bool) -> bool:
    """Whether AWS's error `code` means expired credentials (or revoked, if they `worked`)."""
    return code in EXPIRED_CODES or (worked and code in REVOKED_CODES)


def profile_name(options: AwsOptions) -> str | None:
    """The profile the credential chain reads: --profile, else AWS_PROFILE; None for the default."""
    return options.profile or os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE") or None


def uses_sso(profile: str | None) -> str | None:
    """The profile to `aws sso login` with when `profile` gets its credentials from IAM
    Identity Center (itself, or the profile its role is assumed from), else None."""
    import botocore.session

    profiles: Mapping[str, Mapping[str, Any]] = botocore.session.Session().full_config.get("profiles", {})
    name = profile or "default"
    for _ in range(_SOURCE_DEPTH):
        section = profiles.get(name) or {}
        if "sso_start_url" in section or "sso_session" in section:
            return name
        source = section.get("source_profile")
        if not source or source == name:
            return None
        name = source
    return None


def renewal_hint(options: AwsOptions, sso: bool = False) -> str:
    """The command that renews this profile's credentials, in a few words for a status bar.

    `sso`: the error itself came from SSO, whatever the config file says.
    """
    explicit = profile_name(options)
    try:
        name = uses_sso(explicit)
    except Exception:  # noqa: BLE001 - a config file botocore cannot read: the generic hint
        name = None
    if name is None and not sso:
        return OTHER_TOOLS
    name = name or explicit
    if name is None or (explicit is None and name == "default"):
        return "run `aws sso login`"
    return f"run `aws sso login --profile {shlex.quote(name)}`"


@dataclass(frozen=True)
class CredentialState:
    """What is known about the session's credentials, for a status bar."""

    expired: bool = False
    since: float | None = None       # epoch seconds the expiry was first seen
    reason: str = ""                 # the code or error that said so
    hint: str = ""                   # how to renew them for this profile
    attempts: int = 0                # re-reads of the chain that have failed since
    recovered_at: float | None = None

    @property
    def line(self) -> str:
        """One line: expired since when, why, and what to run; or renewed at when."""
        if self.expired:
            what = "are no longer accepted" if self.reason in REVOKED_CODES else "expired"
            return f"AWS credentials {what} at {_clock(self.since)} ({self.reason}): {self.hint}"
        if self.recovered_at is not None:
            return f"AWS credentials renewed at {_clock(self.recovered_at)}"
        return "AWS credentials valid"


def _clock(when: float | None) -> str:
    return datetime.fromtimestamp(when or 0).strftime("%H:%M:%S")


class CredentialWatch:
    """Whether one AwsSession's credentials are known to be expired, and waiting for new ones."""

    def __init__(self, session: AwsSession, every: float = EVERY) -> None:
        self.session = session
        self.every = every
        self.state = CredentialState()
        self.worked = False  # a call has succeeded with the current credentials
        self._listeners: list[Callable[[CredentialState], None]] = []
        self._lock: asyncio.Lock | None = None

    @property
    def known_expired(self) -> bool:
        return self.state.expired

    def listen(self, callback: Callable[[CredentialState], None]) -> Callable[[], None]:
        """Tell `callback` every change of state; returns what stops it."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback)

    def hooks(self, events: Any, generation: int) -> None:
        """Follow every call of the clients a botocore session (its `events`) will build.

        Calls of clients from an older `generation` (before a renewal) say nothing about the
        current credentials and are ignored.
        """
        def after_call(http_response: Any = None, parsed: Any = None, **_: Any) -> None:
            if generation != self.session.generation:
                return
            if http_response is not None and http_response.status_code < 300:
                self.succeeded()
                return
            code = parsed.get("Error", {}).get("Code") if isinstance(parsed, dict) else None
            if code_expired(code, self.worked):
                self.expired(str(code))

        def after_error(exception: BaseException | None = None, **_: Any) -> None:
            if generation == self.session.generation and exception is not None:
                reason = expiry_reason(exception, self.worked)
                if reason:
                    self.expired(reason, sso=sso_expired(exception))

        events.register("after-call", after_call)
        events.register("after-call-error", after_error)

    def expired(self, reason: str, sso: bool = False) -> None:
        """Record that a call said the credentials expired (the first time tells listeners)."""
        if not self.state.expired:
            self._set(CredentialState(True, time.time(), reason, renewal_hint(self.session.options, sso)))

    def succeeded(self) -> None:
        """A call of the current credentials worked (also after botocore refreshed them itself)."""
        self.worked = True
        if self.state.expired:
            self._set(CredentialState(recovered_at=time.time()))

    async def wait_until_valid(self, every: float | None = None) -> CredentialState:
        """Return at once unless known expired; else re-read the credential chain every
        `every` seconds until it gives credentials that work, then drop the session's cached
        clients (ask for them again). One re-reader however many wait."""
        if not self.state.expired:
            return self.state
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            while self.state.expired:
                if await self._reread():
                    self.session.renew()
                    self.worked = True
                    self._set(CredentialState(recovered_at=time.time()))
                    break
                self._set(replace(self.state, attempts=self.state.attempts + 1))
                await asyncio.sleep(self.every if every is None else every)
        return self.state

    async def _reread(self) -> bool:
        """Whether a fresh botocore session (the chain read again) has credentials that work."""
        from aiobotocore.config import AioConfig
        from aiobotocore.session import AioSession

        options = replace(self.session.options, max_attempts=1)
        try:
            fresh = AioSession(profile=options.profile)
            async with fresh.create_client("sts", config=options.botocore_config(AioConfig),
                                           **options.client_kwargs()) as sts:
                await sts.get_caller_identity()
        except Exception:  # noqa: BLE001 - still expired, or not reachable: try again later
            return False
        return True

    def _set(self, state: CredentialState) -> None:
        self.state = state
        for listener in list(self._listeners):
            with contextlib.suppress(Exception):  # a broken listener must not break the call
                listener(state)
