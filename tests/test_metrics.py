"""Metric symptoms on datapoints put into moto, batching, and alarms as findings."""

from __future__ import annotations

from tests import awsseed as seed
from warroom.aws.discovery import discover
from warroom.aws.metrics import (
    MetricFetcher,
    MetricQuery,
    alarm_findings,
    check_metrics,
    standard_queries,
)
from warroom.aws.session import AwsOptions, AwsSession
from warroom.demo.server import MotoServer
from warroom.incident.records import Finding

LATENCY = seed.playbook_yaml("slow-fn", (
    "  - metric: {namespace: AWS/Lambda, name: Duration, stat: Maximum, dimension: FunctionName,\n"
    "             comparison: '>', threshold: 5000, period: 60}\n"), "  function: {resource: function}\n")
ERRORS_TWICE = seed.playbook_yaml("errors", (
    "  - metric: {namespace: AWS/Lambda, name: Errors, stat: Sum, dimension: FunctionName,\n"
    "             comparison: '>=', threshold: 1, period: 60, evaluation_periods: 2}\n"))
THROTTLES = seed.playbook_yaml("ddb-throttles", (
    "  - metric: {namespace: AWS/DynamoDB, name: ThrottledRequests, stat: Sum, dimension: TableName,\n"
    "             comparison: '>', threshold: 0}\n"), service="dynamodb")
P95 = seed.playbook_yaml("api-p95", (
    "  - metric: {namespace: AWS/ApiGateway, name: Latency, stat: p95, dimension: ApiId,\n"
    "             comparison: '>', threshold: 5000}\n"), service="apigateway")


def options(moto: MotoServer, **extra: object) -> AwsOptions:
    return AwsOptions(endpoint_url=moto.endpoint, region="us-east-1", **extra)  # type: ignore[arg-type]


async def metric_findings(moto: MotoServer, *playbooks: str, services: list[str],
                          **extra: object) -> tuple[list[Finding], list[str]]:
    catalog = seed.catalog_of(*playbooks)
    async with AwsSession(options(moto, **extra)) as session:
        inventory = await discover(session, (), services)
        return await check_metrics(MetricFetcher(session), catalog, inventory.resources)


async def test_threshold_breached_only_where_datapoints_exceed_it(moto: MotoServer) -> None:
    seed.function(moto.endpoint, "fn-slow")
    seed.function(moto.endpoint, "fn-fast")
    seed.put_metric(moto.endpoint, "AWS/Lambda", "Duration", "FunctionName", "fn-slow", [1200, 7412], "Milliseconds")
    seed.put_metric(moto.endpoint, "AWS/Lambda", "Duration", "FunctionName", "fn-fast", [120, 4999], "Milliseconds")
    findings, warnings = await metric_findings(moto, LATENCY, services=["lambda"])
    assert warnings == []
    assert [(f.playbook, f.resource, f.resource_kind, f.kind) for f in findings] == [
        ("slow-fn", "fn-slow", "function", "metric")]
    assert findings[0].evidence == "Duration Maximum 7412 ms > 5000 ms"
    assert findings[0].captures == {"function": "fn-slow"}
    assert findings[0].time > 0


async def test_evaluation_periods_need_every_period_to_breach(moto: MotoServer) -> None:
    seed.function(moto.endpoint, "fn-err")
    seed.put_metric(moto.endpoint, "AWS/Lambda", "Errors", "FunctionName", "fn-err", [3])
    findings, _ = await metric_findings(moto, ERRORS_TWICE, services=["lambda"])
    assert findings == []  # one period of data for a two-period symptom


async def test_dynamodb_throttles_and_the_alarm_on_them(moto: MotoServer) -> None:
    ddb = seed.client(moto.endpoint, "dynamodb")
    ddb.create_table(TableName="locks", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    seed.put_metric(moto.endpoint, "AWS/DynamoDB", "ThrottledRequests", "TableName", "locks", [2, 5])
    cw = seed.client(moto.endpoint, "cloudwatch")
    for name, metric in (("locks-throttled", "ThrottledRequests"), ("unwatched", "SystemErrors")):
        cw.put_metric_alarm(AlarmName=name, MetricName=metric, Namespace="AWS/DynamoDB", Statistic="Sum",
                            Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
                            Dimensions=[{"Name": "TableName", "Value": "locks"}])
        cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason=f"{metric} crossed")
    cw.put_metric_alarm(AlarmName="quiet", MetricName="ThrottledRequests", Namespace="AWS/DynamoDB",
                        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                        ComparisonOperator="GreaterThanThreshold")
    cw.set_alarm_state(AlarmName="quiet", StateValue="OK", StateReason="fine")
    findings, _ = await metric_findings(moto, THROTTLES, services=["dynamodb", "cloudwatch"])
    got = {(f.playbook, f.resource, f.resource_kind, f.kind) for f in findings}
    assert got == {("ddb-throttles", "locks", "table", "metric"),   # Sum of the period: 7 > 0
                   ("ddb-throttles", "locks", "table", "alarm"),    # its alarm, on the table it watches
                   ("", "unwatched", "alarm", "alarm")}             # no playbook watches SystemErrors
    metric = next(f for f in findings if f.kind == "metric")
    assert metric.evidence == "ThrottledRequests Sum 7 > 0"
    alarm = next(f for f in findings if f.playbook and f.kind == "alarm")
    assert "locks-throttled" in alarm.evidence and alarm.captures["alarm"] == "locks-throttled"


async def test_batches_hold_at_most_500_queries(moto: MotoServer) -> None:
    seed.put_metric(moto.endpoint, "AWS/Lambda", "Invocations", "FunctionName", "fn-0042", [9])
    queries = [MetricQuery("AWS/Lambda", "Invocations", "Sum", (("FunctionName", f"fn-{i:04d}"),), 60, 600)
               for i in range(1001)]
    async with AwsSession(options(moto)) as session:
        fetcher = MetricFetcher(session)
        series, warnings = await fetcher.fetch(queries + queries[:10])  # duplicates asked once
    assert warnings == []
    assert fetcher.calls == 3
    assert len(series) == 1001
    assert series[queries[42]].values == [9.0]
    assert sum(1 for s in series.values() if s.values) == 1


async def test_an_endpoint_without_percentiles_loses_only_those(moto: MotoServer) -> None:
    api = seed.client(moto.endpoint, "apigatewayv2").create_api(Name="http", ProtocolType="HTTP")["ApiId"]
    seed.function(moto.endpoint, "fn-slow")
    seed.put_metric(moto.endpoint, "AWS/Lambda", "Duration", "FunctionName", "fn-slow", [9000])
    seed.put_metric(moto.endpoint, "AWS/ApiGateway", "Latency", "ApiId", api, [9000])
    catalog = seed.catalog_of(LATENCY, P95)
    # An endpoint that answers a percentile with HTTP 500, as moto itself does (the offline
    # account computes them); one attempt keeps the test quick.
    moto.faults(error=1.0, targets=["GetMetricData"], bodies=["p95"])
    async with AwsSession(options(moto, max_attempts=1)) as session:
        inventory = await discover(session, (), ["lambda", "apigatewayv2"])
        fetcher = MetricFetcher(session)
        findings, warnings = await check_metrics(fetcher, catalog, inventory.resources)
        assert [f.playbook for f in findings] == ["slow-fn"]
        assert any("percentile" in w for w in warnings)
        assert not fetcher.percentiles_supported
        calls = fetcher.calls
        _, again = await check_metrics(fetcher, catalog, inventory.resources)
        assert fetcher.calls == calls + 1  # the percentile series is not asked for again
        assert any("percentile" in w for w in again)


def test_standard_queries_cover_each_kind() -> None:
    from warroom.incident.records import Resource

    resources = [Resource("function", "f"), Resource("api", "a", attributes={"ApiId": "abc123"}),
                 Resource("table", "t"), Resource("secret", "s")]
    got = {(q.namespace, q.metric, q.dimensions) for q in standard_queries(resources)}
    assert ("AWS/Lambda", "Throttles", (("FunctionName", "f"),)) in got
    assert ("AWS/ApiGateway", "5xx", (("ApiId", "abc123"),)) in got
    assert ("AWS/DynamoDB", "ThrottledRequests", (("TableName", "t"),)) in got
    assert not any(dim[0][1] == "s" for _, _, dim in got)


def test_alarm_findings_need_alarm_state() -> None:
    from warroom.incident.records import Resource

    catalog = seed.catalog_of(THROTTLES)
    ok = Resource("alarm", "x", attributes={"StateValue": "OK", "Namespace": "AWS/DynamoDB",
                                            "MetricName": "ThrottledRequests"})
    assert alarm_findings(catalog, [ok]) == []
