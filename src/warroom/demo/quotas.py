"""CloudWatch Logs' per-account request quotas and a per-call latency, inside the offline account.

moto answers every call at once and never throttles, so a client that polls too hard looks
fine offline and throttles the whole account in production. This WSGI middleware keeps a
token bucket per CloudWatch Logs API at the published per-account, per-region rate (the
bucket holds one second's worth) and answers a call beyond it the way AWS does: HTTP 400
with a JSON `__type` of ThrottlingException. It counts every call and every throttle, so
tests and benches read at the server what a client really asked for.

Configured at start (`warroom demo --serve --no-quotas --latency MS`) and at run time
through `POST /_warroom/quotas` (JSON: `enabled`, `latency_ms`, `rates`, `reset_counts`);
`GET` (or any POST) answers the config and the counts.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from warroom.aws.pacing import TokenBucket
from warroom.demo.wire import (
    App,
    Environ,
    StartResponse,
    json_answer,
    json_error,
    request_body,
)

CONTROL_PATH = "/_warroom/quotas"
LOGS_TARGET = "Logs_20140328."


# Requests per second per account and region, from the CloudWatch Logs quotas page.
PUBLISHED_RATES: dict[str, float] = {
    "FilterLogEvents": 5.0,
    "GetLogEvents": 10.0,
    "DescribeLogGroups": 5.0,
    "DescribeLogStreams": 5.0,
    "StartLiveTail": 5.0,
    "StartQuery": 5.0,
    "GetQueryResults": 5.0,
    "StopQuery": 5.0,
    "DescribeQueries": 5.0,
    "PutLogEvents": 5000.0,
    "CreateLogStream": 50.0,
}


@dataclass
class QuotaConfig:
    """Whether quotas are enforced, at which rates, and the latency every AWS call gets."""

    enabled: bool = True
    latency_ms: float = 0.0
    rates: dict[str, float] = field(default_factory=lambda: dict(PUBLISHED_RATES))


class Quota:
    """A per-account quota: the client's TokenBucket (`rate` a second, one second's burst),
    shared by the server's threads; `take` never waits, it answers."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._bucket = TokenBucket(rate)
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            return self._bucket.try_acquire() == 0.0


class AccountQuotas:
    """Adds the latency to every AWS call and throttles CloudWatch Logs calls beyond quota."""

    def __init__(self, app: App, config: QuotaConfig | None = None) -> None:
        self.app = app
        self.config = config or QuotaConfig()
        self._buckets: dict[str, Quota] = {}
        self._counts: dict[str, dict[str, int]] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == CONTROL_PATH:
            return self._control(environ, start_response)
        if path.startswith(("/_warroom/", "/moto-api/")):
            return self.app(environ, start_response)
        config = self.config
        if config.latency_ms > 0:
            time.sleep(config.latency_ms / 1000)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(LOGS_TARGET):
            return self.app(environ, start_response)
        api = target[len(LOGS_TARGET):]
        allowed = not config.enabled or api not in config.rates or self._bucket(api).take()
        with self._lock:
            counts = self._counts.setdefault(api, {"calls": 0, "throttled": 0})
            counts["calls"] += 1
            if not allowed:
                counts["throttled"] += 1
        if not allowed:
            return json_error(start_response, "ThrottlingException", "Rate exceeded")
        return self.app(environ, start_response)

    def _bucket(self, api: str) -> Quota:
        with self._lock:
            bucket = self._buckets.get(api)
            if bucket is None or bucket.rate != self.config.rates[api]:
                bucket = self._buckets[api] = Quota(self.config.rates[api])
            return bucket

    def _control(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST":
            body = request_body(environ)
            with self._lock:
                if body.pop("reset_counts", False):
                    self._counts.clear()
                    self._buckets.clear()
                rates = {**self.config.rates, **body.pop("rates", {})}
                self.config = QuotaConfig(**{**asdict(self.config), **body, "rates": rates})
        with self._lock:
            state = {"config": asdict(self.config), "counts": json.loads(json.dumps(self._counts))}
        return json_answer(start_response, "200 OK", state)

