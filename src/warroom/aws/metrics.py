"""CloudWatch metrics: GetMetricData in batches, and playbook metric symptoms evaluated on them.

Queries for the discovered resources (Lambda errors, throttles, duration, invocations;
API Gateway 5xx and latency; DynamoDB throttles) and for every playbook metric symptom
are deduplicated, grouped by look-back window and sent 500 at a time. A symptom fires
when its last `evaluation_periods` datapoints all breach the threshold, as an alarm does.
Alarms in ALARM are findings too, attributed to the playbook that watches their metric.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from warroom.aws.session import AwsSession, error_code, explain
from warroom.incident.attribution import resource_captures
from warroom.incident.records import Finding, Resource
from warroom.playbook.catalog import Catalog
from warroom.playbook.model import MetricSymptom, Playbook

MAX_QUERIES = 500          # GetMetricData's limit per call
CONCURRENCY = 4            # GetMetricData calls in flight
DEFAULT_PERIOD = 60

# Which resource kind a metric dimension names, and how to read its value off a Resource.
DIMENSION_KINDS: dict[str, str] = {
    "FunctionName": "function", "ApiId": "api", "ApiName": "api", "TableName": "table",
    "ProjectName": "project", "TopicName": "topic", "LogGroupName": "log_group",
    "BucketName": "bucket", "KeyId": "key", "StackName": "stack",
}

# Units worth printing after a value, by metric name (CloudWatch reports these in ms).
UNITS: dict[str, str] = {"Duration": "ms", "Latency": "ms", "IntegrationLatency": "ms",
                         "InitDuration": "ms", "IteratorAge": "ms", "SuccessfulRequestLatency": "ms"}

# (namespace, metric, stat) watched on every discovered resource of a kind.
STANDARD: dict[str, tuple[tuple[str, str, str], ...]] = {
    "function": (("AWS/Lambda", "Errors", "Sum"), ("AWS/Lambda", "Throttles", "Sum"),
                 ("AWS/Lambda", "Duration", "Maximum"), ("AWS/Lambda", "Duration", "Average"),
                 ("AWS/Lambda", "Invocations", "Sum")),
    "api": (("AWS/ApiGateway", "5xx", "Sum"), ("AWS/ApiGateway", "Latency", "Average"),
            ("AWS/ApiGateway", "Latency", "Maximum")),
    "table": (("AWS/DynamoDB", "ThrottledRequests", "Sum"), ("AWS/DynamoDB", "ReadThrottleEvents", "Sum"),
              ("AWS/DynamoDB", "WriteThrottleEvents", "Sum")),
}

_PERCENTILE = re.compile(r"^[pP]\d")


@dataclass(frozen=True, slots=True)
class MetricQuery:
    """One metric series: what to ask GetMetricData for."""

    namespace: str
    metric: str
    stat: str
    dimensions: tuple[tuple[str, str], ...]
    period: int = DEFAULT_PERIOD
    lookback: int = DEFAULT_PERIOD * 5  # seconds before now

    @property
    def percentile(self) -> bool:
        return bool(_PERCENTILE.match(self.stat))

    def to_api(self, qid: str) -> dict[str, Any]:
        return {"Id": qid, "ReturnData": True, "MetricStat": {
            "Metric": {"Namespace": self.namespace, "MetricName": self.metric,
                       "Dimensions": [{"Name": n, "Value": v} for n, v in self.dimensions]},
            "Period": self.period, "Stat": self.stat}}


@dataclass(slots=True)
class Series:
    """Datapoints of one query, oldest first; timestamps in ms since the epoch."""

    query: MetricQuery
    timestamps: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    def last(self, n: int) -> list[tuple[int, float]]:
        return list(zip(self.timestamps, self.values, strict=True))[-n:]


def dimension_value(resource: Resource, dimension: str) -> str | None:
    """The value `resource` has for a CloudWatch dimension, or None when it has none."""
    if DIMENSION_KINDS.get(dimension) != resource.kind:
        return None
    if dimension == "ApiId":
        return resource.attributes.get("ApiId")
    if dimension == "KeyId":
        return resource.attributes.get("KeyId", resource.name)
    return resource.name


def symptom_kind(symptom: MetricSymptom) -> str | None:
    return symptom.resource or DIMENSION_KINDS.get(symptom.dimension)


def symptom_query(symptom: MetricSymptom, resource: Resource) -> MetricQuery | None:
    value = dimension_value(resource, symptom.dimension)
    if value is None:
        return None
    return MetricQuery(symptom.namespace, symptom.metric, symptom.stat, ((symptom.dimension, value),),
                       symptom.period, symptom.period * (symptom.evaluation_periods + 1))


def standard_queries(resources: Iterable[Resource], period: int = DEFAULT_PERIOD,
                     lookback: int = DEFAULT_PERIOD * 15) -> list[MetricQuery]:
    """The per-kind health metrics for each resource (for the console's sparklines, too)."""
    out = []
    for resource in resources:
        for namespace, metric, stat in STANDARD.get(resource.kind, ()):
            dimension = next(d for d, k in DIMENSION_KINDS.items() if k == resource.kind
                             and dimension_value(resource, d) is not None)
            value = dimension_value(resource, dimension)
            out.append(MetricQuery(namespace, metric, stat, ((dimension, value or ""),), period, lookback))
    return out


def _ms(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(value.timestamp() * 1000)


class MetricFetcher:
    """Fetches series through GetMetricData, at most 500 queries per call.

    Remembers an endpoint that cannot compute percentiles (moto answers HTTP 500) so that
    a periodic caller pays for finding out once, not on every run.
    """

    def __init__(self, session: AwsSession, batch_size: int = MAX_QUERIES,
                 concurrency: int = CONCURRENCY) -> None:
        self.session = session
        self.batch_size = max(1, min(batch_size, MAX_QUERIES))
        self._gate = asyncio.Semaphore(concurrency)
        self.percentiles_supported = True
        self.calls = 0

    async def fetch(self, queries: Iterable[MetricQuery], now: datetime | None = None,
                    ) -> tuple[dict[MetricQuery, Series], list[str]]:
        """Series for each distinct query, and warnings for the batches that failed."""
        now = now or datetime.now(timezone.utc)
        unique = list(dict.fromkeys(queries))
        warnings: list[str] = []
        if not self.percentiles_supported:
            skipped = [q for q in unique if q.percentile]
            if skipped:
                warnings.append(f"cloudwatch: percentile statistics unavailable at this endpoint; "
                                f"{len(skipped)} series skipped")
            unique = [q for q in unique if not q.percentile]
        # One call has one time window, and a percentile the endpoint rejects must not
        # take the other series of its batch down with it: group on both.
        groups: dict[tuple[int, bool], list[MetricQuery]] = {}
        for query in unique:
            groups.setdefault((query.lookback, query.percentile), []).append(query)
        batches = [(key, qs[i:i + self.batch_size]) for key, qs in groups.items()
                   for i in range(0, len(qs), self.batch_size)]
        results = await asyncio.gather(*(self._batch(qs, now - timedelta(seconds=lookback), now)
                                         for (lookback, _), qs in batches), return_exceptions=True)
        out: dict[MetricQuery, Series] = {}
        for ((_, percentile), qs), result in zip(batches, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                if percentile and _is_server_error(result):
                    self.percentiles_supported = False
                    warnings.append(f"cloudwatch: percentile statistics unavailable at this endpoint "
                                    f"({explain(result, self.session.options)})")
                else:
                    warnings.append(f"cloudwatch: GetMetricData failed for {len(qs)} series: "
                                    f"{explain(result, self.session.options)}")
                continue
            out.update(result)
        return out, warnings

    async def _batch(self, queries: Sequence[MetricQuery], start: datetime,
                     end: datetime) -> dict[MetricQuery, Series]:
        client = await self.session.client("cloudwatch")
        by_id = {f"q{i}": q for i, q in enumerate(queries)}
        series = {q: Series(q) for q in queries}
        params: dict[str, Any] = {
            "MetricDataQueries": [q.to_api(qid) for qid, q in by_id.items()],
            # A minute past now: the current, partial period is included.
            "StartTime": start, "EndTime": end + timedelta(minutes=1),
            "ScanBy": "TimestampAscending"}
        points: dict[MetricQuery, list[tuple[int, float]]] = {q: [] for q in queries}
        while True:
            async with self._gate:
                self.calls += 1
                answer = await client.get_metric_data(**params)
            for result in answer.get("MetricDataResults", []):
                query = by_id.get(result.get("Id", ""))
                if query is None:
                    continue
                for ts, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                    if isinstance(value, (int, float)):
                        points[query].append((_ms(ts), float(value)))
            token = answer.get("NextToken")
            if not token:
                break
            params["NextToken"] = token
        for query, pts in points.items():
            pts.sort()
            series[query].timestamps = [t for t, _ in pts]
            series[query].values = [v for _, v in pts]
        return series


def _is_server_error(exc: BaseException) -> bool:
    response = getattr(exc, "response", None)
    status = (response or {}).get("ResponseMetadata", {}).get("HTTPStatusCode") if isinstance(
        response, dict) else None
    return bool(status and status >= 500) or error_code(exc) in ("500", "InternalFailure",
                                                                 "InternalServiceError")


# -- evaluation --------------------------------------------------------------------------


def breaches(value: float, comparison: str, threshold: float) -> bool:
    return {">": value > threshold, ">=": value >= threshold,
            "<": value < threshold, "<=": value <= threshold}[comparison]


def fmt(value: float) -> str:
    """A metric value as people read it: 7412, 0.5, 12.3."""
    if value == int(value) or abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


def evidence(symptom: MetricSymptom, value: float) -> str:
    """E.g. `Latency p95 7412 ms > 5000 ms`."""
    unit = UNITS.get(symptom.metric)
    tail = f" {unit}" if unit else ""
    return (f"{symptom.metric} {symptom.stat} {fmt(value)}{tail} {symptom.comparison} "
            f"{fmt(symptom.threshold)}{tail}")


def symptom_queries(catalog: Catalog, resources: Sequence[Resource]) -> list[MetricQuery]:
    """Every series the catalog's metric symptoms need for these resources."""
    out = []
    for playbook in catalog:
        for symptom in playbook.metric_symptoms:
            kind = symptom_kind(symptom)
            for resource in resources:
                if resource.kind == kind:
                    query = symptom_query(symptom, resource)
                    if query is not None:
                        out.append(query)
    return out


def evaluate(catalog: Catalog, resources: Sequence[Resource],
             series: dict[MetricQuery, Series]) -> list[Finding]:
    """A finding for each (playbook metric symptom, resource) whose last periods all breach."""
    findings = []
    for playbook in catalog:
        for symptom in playbook.metric_symptoms:
            kind = symptom_kind(symptom)
            for resource in resources:
                if resource.kind != kind:
                    continue
                query = symptom_query(symptom, resource)
                found = series.get(query) if query else None
                if found is None:
                    continue
                recent = found.last(symptom.evaluation_periods)
                if len(recent) < symptom.evaluation_periods or not all(
                        breaches(v, symptom.comparison, symptom.threshold) for _, v in recent):
                    continue
                time, value = recent[-1]
                findings.append(Finding(playbook.id, resource.name, resource.kind,
                                        evidence(symptom, value), time, "metric",
                                        resource_captures(playbook, resource)))
    return findings


def _state_time(resource: Resource) -> int:
    stamp = resource.attributes.get("StateUpdatedTimestamp")
    try:
        return _ms(datetime.fromisoformat(stamp)) if isinstance(stamp, str) else 0
    except ValueError:
        return 0


def alarm_findings(catalog: Catalog, resources: Sequence[Resource]) -> list[Finding]:
    """A finding for each alarm in ALARM, attributed to the playbook watching its metric.

    An alarm no playbook watches is still reported, with an empty playbook id.
    """
    by_name = {(r.kind, r.name): r for r in resources}
    by_api_id = {r.attributes.get("ApiId"): r for r in resources if r.kind == "api"}
    findings = []
    for alarm in resources:
        if alarm.kind != "alarm" or alarm.attributes.get("StateValue") != "ALARM":
            continue
        attrs = alarm.attributes
        dims: dict[str, str] = attrs.get("Dimensions") or {}
        best: tuple[int, Playbook, Resource | None] | None = None
        for playbook in catalog:
            for symptom in playbook.metric_symptoms:
                if (symptom.namespace, symptom.metric) != (attrs.get("Namespace"), attrs.get("MetricName")):
                    continue
                # Prefer the symptom on the same dimension, then the same statistic.
                score = 2 * (symptom.dimension in dims) + (symptom.stat == attrs.get("Statistic"))
                target = None
                if symptom.dimension in dims:
                    kind = DIMENSION_KINDS.get(symptom.dimension, "")
                    value = dims[symptom.dimension]
                    target = by_api_id.get(value) if symptom.dimension == "ApiId" else by_name.get((kind, value))
                if best is None or score > best[0]:
                    best = (score, playbook, target)
        reason = str(attrs.get("StateReason") or "").strip()
        text = f"alarm {alarm.name} is in ALARM" + (f": {reason}" if reason else "")
        if best is None:
            findings.append(Finding("", alarm.name, "alarm", text, _state_time(alarm), "alarm"))
            continue
        _, playbook, target = best
        subject = target or alarm
        captures = resource_captures(playbook, subject)
        captures.setdefault("alarm", alarm.name)
        findings.append(Finding(playbook.id, subject.name, subject.kind, text, _state_time(alarm),
                                "alarm", captures))
    return findings


async def check_metrics(fetcher: MetricFetcher, catalog: Catalog, resources: Sequence[Resource],
                        now: datetime | None = None) -> tuple[list[Finding], list[str]]:
    """Metric-symptom and alarm findings for the resources, and warnings."""
    series, warnings = await fetcher.fetch(symptom_queries(catalog, resources), now)
    return evaluate(catalog, resources, series) + alarm_findings(catalog, resources), warnings
