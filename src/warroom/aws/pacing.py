"""Pacing AWS calls: a token bucket per API, and retries with exponential backoff and full jitter.

Clients used through `Pacer.call` should be built with botocore's own retries off
(see `no_retry_options`): the pacer is then the only place a call is
repeated, every attempt goes through the bucket, and every throttle, 5xx and dropped
connection is counted once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from warroom.aws.session import AwsOptions, AwsSession, error_code

T = TypeVar("T")
# The same call on the client of renewed credentials (`client.filter_log_events` -> the new one's).
Rebind = Callable[[Callable[..., Awaitable[Any]]], Awaitable[Callable[..., Awaitable[Any]]]]

# Defaults under CloudWatch Logs' published per-account quotas (requests per second); the
# ones a tail calls again and again leave most of the quota to the account's other tools.
DEFAULT_RATES: dict[str, float] = {
    "FilterLogEvents": 5.0,
    "GetLogEvents": 10.0,
    "DescribeLogGroups": 2.0,
    "DescribeLogStreams": 5.0,
    "StartLiveTail": 2.0,
    "StartQuery": 1.0,
    "GetQueryResults": 2.0,
}
FALLBACK_RATE = 5.0

THROTTLE_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
    "RequestLimitExceeded", "RequestThrottled", "RequestThrottledException",
    "ProvisionedThroughputExceededException", "LimitExceededException", "SlowDown",
    "BandwidthLimitExceeded", "PriorRequestNotComplete", "EC2ThrottledException",
})
TRANSIENT_CODES = frozenset({
    "InternalFailure", "InternalError", "InternalServerError", "ServiceUnavailable",
    "ServiceUnavailableException", "RequestTimeout", "RequestTimeoutException",
})


def no_retry_options(options: AwsOptions) -> AwsOptions:
    """The same account, region and endpoint with botocore's retries off (the pacer retries).

    botocore's `retries.max_attempts` counts retries after the first attempt, so 0 is "none".
    """
    return dataclasses.replace(options, max_attempts=0)


class TokenBucket:
    """`rate` tokens per second, holding at most `burst`; `acquire` waits for one."""

    def __init__(self, rate: float, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else rate)
        self._clock = clock
        self._tokens = self.burst
        self._last = clock()
        self._lock = asyncio.Lock()  # callers are served in arrival order

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def try_acquire(self) -> float:
        """Take a token and return 0, or take nothing and return the seconds until one is due."""
        self._refill()
        if self._tokens >= 1.0 - 1e-9:  # float error must not cost a whole wait
            self._tokens = max(0.0, self._tokens - 1.0)
            return 0.0
        return (1.0 - self._tokens) / self.rate

    async def acquire(self) -> None:
        async with self._lock:
            while (wait := self.try_acquire()) > 0:
                await asyncio.sleep(wait)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: attempt n sleeps uniform(0, min(cap, base * 2**n))."""

    base: float = 0.2
    cap: float = 10.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        ceiling = min(self.cap, self.base * (2 ** min(attempt, 30)))
        return (rng or random).uniform(0.0, ceiling)


@dataclass
class PacerStats:
    """Counters the console's status bar reads; each failed attempt is counted once."""

    calls: int = 0
    throttled: int = 0
    errors: int = 0       # 5xx and other transient server errors
    reconnects: int = 0   # dropped or refused connections, timeouts
    by_api: dict[str, int] = field(default_factory=dict)
    # Since when (time.monotonic()) every attempt failed without an answer (5xx, dropped
    # or refused connections, timeouts); None while the endpoint answers.
    failing_since: float | None = None

    def answered(self) -> None:
        """The endpoint answered (a throttle is an answer too)."""
        self.failing_since = None

    def count_failure(self, kind: str) -> None:
        """Count a failed attempt of `kind` ('throttle', 'server' or 'connection')."""
        if kind == "throttle":
            self.throttled += 1
            self.answered()
            return
        if kind == "server":
            self.errors += 1
        else:
            self.reconnects += 1
        if self.failing_since is None:
            self.failing_since = time.monotonic()


def classify(exc: BaseException) -> str | None:
    """'throttle', 'server' or 'connection' for a failure worth retrying; None otherwise."""
    import botocore.exceptions as bx

    code = error_code(exc)
    if code in THROTTLE_CODES:
        return "throttle"
    response = getattr(exc, "response", None)
    status = 0
    if isinstance(response, dict):
        status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if status == 429:
        return "throttle"
    if status >= 500 or code in TRANSIENT_CODES:
        return "server"
    if isinstance(exc, (bx.ConnectionError, bx.HTTPClientError, bx.ReadTimeoutError)):
        return "connection"
    if isinstance(exc, (asyncio.TimeoutError, ConnectionError)):
        return "connection"
    try:
        import aiohttp
    except ImportError:  # pragma: no cover - aiobotocore depends on it
        return None
    if isinstance(exc, aiohttp.ClientError):
        return "connection"
    return None


async def wait_out_expiry(session: AwsSession, exc: BaseException, generation: int) -> bool:
    """When `exc` failed a call because the session's credentials expired, wait until they
    are valid again and say True (ask for clients again). Also True for an expiry error of a
    call made before the last renewal (`generation`): the renewed credentials were not tried."""
    from warroom.aws.credentials import expiry_reason

    watch = session.credentials
    if not watch.known_expired and (generation == session.generation or not expiry_reason(exc, True)):
        return False
    await watch.wait_until_valid()
    return True


class RetriesExhausted(Exception):
    """A call kept failing with retryable errors for `attempts` tries; wraps the last error."""

    def __init__(self, api: str, last: BaseException) -> None:
        super().__init__(f"{api}: {last}")
        self.api = api
        self.last = last


class Pacer:
    """Runs calls through their API's token bucket, retrying throttles, 5xx and dropped connections."""

    def __init__(self, rates: Mapping[str, float] | None = None, backoff: Backoff | None = None,
                 burst: float | None = None, seed: int | None = None,
                 session: AwsSession | None = None, rebind: Rebind | None = None) -> None:
        self.rates = {**DEFAULT_RATES, **(rates or {})}
        self.backoff = backoff or Backoff()
        self._burst = burst
        self._buckets: dict[str, TokenBucket] = {}
        self._rng = random.Random(seed)
        self.stats = PacerStats()
        # With both: a long-running call waits out expired credentials (see `call`).
        self.session = session
        self.rebind = rebind

    def bucket(self, api: str) -> TokenBucket:
        if api not in self._buckets:
            self._buckets[api] = TokenBucket(self.rates.get(api, FALLBACK_RATE), self._burst)
        return self._buckets[api]

    async def call(self, api: str, fn: Callable[..., Awaitable[T]], /, *,
                   attempts: int | None = None, **params: Any) -> T:
        """`await fn(**params)` paced as `api`; retried until it succeeds or `attempts` run out.

        Errors that retrying cannot fix (bad parameters, missing resources, credentials)
        are raised at once. With `attempts=None` transient errors are retried forever,
        which is what a long-running tail wants: it resumes as soon as AWS answers again;
        and, given a session and `rebind`, expired credentials are waited out: the call is
        made again, on the client of the renewed ones, once the session's watch has them.
        """
        attempt = 0
        while True:
            await self.bucket(api).acquire()
            self.stats.calls += 1
            self.stats.by_api[api] = self.stats.by_api.get(api, 0) + 1
            generation = self.session.generation if self.session is not None else 0
            try:
                answer = await fn(**params)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - classified below
                kind = classify(exc)
                if kind is None:
                    self.stats.answered()
                    if attempts is None and self.rebind is not None and self.session is not None \
                            and await wait_out_expiry(self.session, exc, generation):
                        fn = await self.rebind(fn)
                        continue
                    raise
                self.stats.count_failure(kind)
                attempt += 1
                if attempts is not None and attempt >= attempts:
                    raise RetriesExhausted(api, exc) from exc
                await asyncio.sleep(self.backoff.delay(attempt - 1, self._rng))
                continue
            self.stats.answered()
            return answer
