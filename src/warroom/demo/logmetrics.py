"""CloudWatch Logs' own metrics (AWS/Logs IncomingLogEvents, IncomingBytes), inside the offline account.

AWS publishes, per log group (`LogGroupName` dimension), how many events and how many
uncompressed bytes PutLogEvents took in, as 1-minute datapoints; moto publishes nothing.
This WSGI middleware sees every PutLogEvents that moto accepted and adds it to one
aggregated datum per group, metric and minute in moto's CloudWatch backend, so that
GetMetricData (and GetMetricStatistics) answer the Sum as AWS does. One datum per minute,
not one per call: moto's GetMetricData walks every stored datum for each query.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterable
from typing import Any

from warroom.demo.operations import body, signing_region
from warroom.demo.wire import ACCOUNT, App, Environ, StartResponse

TARGET = "Logs_20140328.PutLogEvents"
NAMESPACE = "AWS/Logs"
EVENT_OVERHEAD = 26  # bytes AWS counts per event on top of its message (the PutLogEvents size rule)
_STORE = "_warroom_log_metrics"  # on the backend: moto's reset clears it with the rest


class LogMetrics:
    """Publishes IncomingLogEvents and IncomingBytes for every accepted PutLogEvents."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET") != TARGET:
            return self.app(environ, start_response)
        raw = body(environ)
        status: list[str] = []

        def watch(code: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            status.append(code)
            return start_response(code, headers, *rest)

        answer = self.app(environ, watch)
        if status and status[0].startswith("200"):
            try:
                request = json.loads(raw or b"{}")
            except ValueError:
                return answer
            self.record(signing_region(environ), str(request.get("logGroupName") or ""),
                        request.get("logEvents") or [])
        return answer

    def record(self, region: str, group: str, events: list[dict[str, Any]]) -> None:
        """Add one accepted PutLogEvents to the current minute's datapoints of `group`."""
        if not group or not events:
            return
        from moto.cloudwatch.models import MetricAggregatedDatum, cloudwatch_backends

        size = sum(len(str(e.get("message", "")).encode()) + EVENT_OVERHEAD for e in events)
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)  # moto keeps naive UTC
        minute = now.replace(second=0, microsecond=0)
        backend = cloudwatch_backends[ACCOUNT][region]
        with self._lock:
            store: dict[tuple[str, str, dt.datetime], Any] = backend.__dict__.setdefault(_STORE, {})
            for metric, value, unit in (("IncomingLogEvents", len(events), "None"),
                                        ("IncomingBytes", size, "Bytes")):
                key = (group, metric, minute)
                datum = store.get(key)
                if datum is None:
                    datum = store[key] = MetricAggregatedDatum(
                        NAMESPACE, metric, min_stat=value, max_stat=value, sample_count=0,
                        sum_stat=0, dimensions=[{"Name": "LogGroupName", "Value": group}],
                        timestamp=minute, unit=unit)
                    backend.metric_data.append(datum)
                datum.sum += value
                datum.sample_count += 1
                datum.min = min(datum.min, value)
                datum.max = max(datum.max, value)

