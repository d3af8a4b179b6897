"""The offline account behaves like AWS for logs at scale: quotas, Live Tail, Logs Insights.

Against moto's server in a child process, through real boto3 and aiobotocore clients.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import botocore.exceptions
import pytest

from warroom.aws.session import AwsOptions, AwsSession
from warroom.demo.server import OFFLINE_ENV, MotoServer


@pytest.fixture(scope="module")
def account() -> Iterator[MotoServer]:
    """A server with CloudWatch Logs' quotas enforced."""
    with MotoServer(quotas=True) as server:
        yield server


@pytest.fixture
def quotas(account: MotoServer) -> Iterator[MotoServer]:
    account.reset()
    account.account(enabled=True, reset_counts=True)
    yield account
    account.account(enabled=True, reset_counts=True)


@pytest.fixture(scope="module")
def live_server() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture
def live(live_server: MotoServer) -> Iterator[MotoServer]:
    live_server.reset()
    live_server.live_tail(session_seconds=3 * 3600.0, update_seconds=0.2, max_results=500,
                          max_groups=10, max_sessions=15)
    yield live_server
    live_server.live_tail(drop=True)


def client(server: MotoServer, service: str = "logs", **config: Any) -> Any:
    options = AwsOptions(endpoint_url=server.endpoint, region="us-east-1", max_attempts=0, **config)
    return AwsSession(options).sync_client(service)


def make_groups(logs: Any, *names: str) -> None:
    for name in names:
        logs.create_log_group(logGroupName=name)
        logs.create_log_stream(logGroupName=name, logStreamName="s")


def put(logs: Any, group: str, messages: list[str], stream: str = "s", ts: int | None = None) -> None:
    now = ts if ts is not None else int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": now, "message": m} for m in messages])


def code(exc: BaseException) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


# -- quotas ------------------------------------------------------------------------------


def test_a_burst_beyond_the_bucket_is_throttled_the_way_aws_does(quotas: MotoServer) -> None:
    logs = client(quotas)
    make_groups(logs, "/q/a")
    quotas.account(reset_counts=True)
    answered = throttled = 0
    began = time.monotonic()
    for _ in range(20):
        try:
            logs.filter_log_events(logGroupName="/q/a")
            answered += 1
        except botocore.exceptions.ClientError as exc:
            assert code(exc) == "ThrottlingException"
            assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 400
            throttled += 1
    elapsed = time.monotonic() - began
    # A bucket of 5 refilled at 5/s: never more than that was answered.
    assert answered <= 5 + 5 * elapsed + 1e-9
    assert throttled >= 20 - (5 + 5 * elapsed)
    counts = quotas.account()["counts"]["FilterLogEvents"]
    assert counts == {"calls": 20, "throttled": throttled}


def test_each_api_has_its_own_bucket_and_other_services_none(quotas: MotoServer) -> None:
    logs = client(quotas)
    make_groups(logs, "/q/b")
    for _ in range(20):
        try:
            logs.filter_log_events(logGroupName="/q/b")
        except botocore.exceptions.ClientError:
            pass
    for i in range(40):  # PutLogEvents: 5,000/s
        put(logs, "/q/b", [f"m{i}"])
    lambdas = client(quotas, "lambda")
    for _ in range(20):
        lambdas.list_functions()
    counts = quotas.account()["counts"]
    assert counts["FilterLogEvents"]["throttled"] > 0
    assert counts["PutLogEvents"]["throttled"] == 0


def test_quotas_lifted_at_run_time(quotas: MotoServer) -> None:
    logs = client(quotas)
    make_groups(logs, "/q/c")
    quotas.account(enabled=False, reset_counts=True)
    for _ in range(20):
        logs.filter_log_events(logGroupName="/q/c")
    assert quotas.account()["counts"]["FilterLogEvents"] == {"calls": 20, "throttled": 0}


# -- Live Tail ---------------------------------------------------------------------------


def updates(stream: Any, count: int) -> list[dict[str, Any]]:
    """The next `count` session updates of a Live Tail response stream."""
    got = []
    for event in stream:
        if "sessionUpdate" in event:
            got.append(event["sessionUpdate"])
            if len(got) == count:
                break
    return got


def results_until(stream: Any, wanted: int) -> tuple[list[dict[str, Any]], list[bool]]:
    """Results and sampled flags of session updates until `wanted` results arrived."""
    results: list[dict[str, Any]] = []
    sampled: list[bool] = []
    for event in stream:
        update = event.get("sessionUpdate")
        if update is not None:
            results += update["sessionResults"]
            sampled.append(update["sessionMetadata"]["sampled"])
            if len(results) >= wanted:
                break
    return results, sampled


def test_live_tail_streams_what_arrives_after_the_start(live: MotoServer) -> None:
    logs = client(live)
    make_groups(logs, "/lt/a", "/lt/b")
    put(logs, "/lt/a", ["before the session"])
    answer = logs.start_live_tail(logGroupIdentifiers=["/lt/a", "/lt/b"])
    stream = answer["responseStream"]
    start = next(iter(stream))["sessionStart"]
    assert start["logGroupIdentifiers"] == ["arn:aws:logs:us-east-1:123456789012:log-group:/lt/a",
                                            "arn:aws:logs:us-east-1:123456789012:log-group:/lt/b"]
    put(logs, "/lt/a", ["one", "two"])
    put(logs, "/lt/b", ["three"])
    results, sampled = results_until(stream, 3)
    stream.close()
    assert sorted(r["message"] for r in results) == ["one", "three", "two"]
    assert not any(sampled)
    assert {r["logGroupIdentifier"].rsplit(":", 1)[1] for r in results} == {"/lt/a", "/lt/b"}
    assert all(r["ingestionTime"] >= r["timestamp"] - 5000 and r["logStreamName"] == "s" for r in results)


def test_more_than_500_events_in_one_update_are_sampled(live: MotoServer) -> None:
    logs = client(live)
    make_groups(logs, "/lt/busy")
    stream = logs.start_live_tail(logGroupIdentifiers=["/lt/busy"])["responseStream"]
    put(logs, "/lt/busy", [f"e{i}" for i in range(700)])  # one PutLogEvents: one update
    results, sampled = results_until(stream, 1)
    after = updates(stream, 1)[0]
    stream.close()
    assert sampled[-1] is True and len(results) == 500
    assert len({r["message"] for r in results}) == 500
    assert after["sessionMetadata"]["sampled"] is False and after["sessionResults"] == []
    assert live.live_tail()["sampled_updates"] == 1


def test_filter_pattern_keeps_plain_terms_only(live: MotoServer) -> None:
    logs = client(live)
    make_groups(logs, "/lt/f")
    stream = logs.start_live_tail(logGroupIdentifiers=["/lt/f"], logEventFilterPattern="ERROR")["responseStream"]
    put(logs, "/lt/f", ["INFO fine", "ERROR broken", "ERROR again"])
    results, _ = results_until(stream, 2)
    stream.close()
    assert [r["message"] for r in results] == ["ERROR broken", "ERROR again"]


def test_at_most_10_groups_per_session(live: MotoServer) -> None:
    logs = client(live)
    names = [f"/lt/g{i}" for i in range(11)]
    make_groups(logs, *names)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        logs.start_live_tail(logGroupIdentifiers=names)
    assert code(raised.value) == "InvalidParameterException"
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        logs.start_live_tail(logGroupIdentifiers=["/lt/missing"])
    assert code(raised.value) == "ResourceNotFoundException"


def test_15_sessions_per_account_then_limit_exceeded(live: MotoServer) -> None:
    logs = client(live)
    make_groups(logs, "/lt/s")
    streams = [logs.start_live_tail(logGroupIdentifiers=["/lt/s"])["responseStream"] for _ in range(15)]
    try:
        assert live.live_tail()["sessions"] == 15
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            logs.start_live_tail(logGroupIdentifiers=["/lt/s"])
        assert code(raised.value) == "LimitExceededException"
    finally:
        for stream in streams:
            stream.close()
    live.live_tail(drop=True)
    # A closed session frees its place: the next one starts.
    again = logs.start_live_tail(logGroupIdentifiers=["/lt/s"])["responseStream"]
    assert "sessionStart" in next(iter(again))
    again.close()


def test_session_ends_after_its_length_with_a_timeout(live: MotoServer) -> None:
    logs = client(live)
    make_groups(logs, "/lt/t")
    live.live_tail(session_seconds=0.5, update_seconds=0.2)
    stream = logs.start_live_tail(logGroupIdentifiers=["/lt/t"])["responseStream"]
    seen = []
    with pytest.raises(botocore.exceptions.EventStreamError) as raised:
        for event in stream:
            seen.extend(event)
    assert code(raised.value) == "SessionTimeoutException"
    assert seen[0] == "sessionStart" and seen.count("sessionUpdate") >= 2


def test_dropped_session_ends_with_a_streaming_error(live: MotoServer) -> None:
    logs = client(live)
    make_groups(logs, "/lt/d")
    stream = logs.start_live_tail(logGroupIdentifiers=["/lt/d"])["responseStream"]
    updates(stream, 1)
    live.live_tail(drop=True)
    with pytest.raises(botocore.exceptions.EventStreamError) as raised:
        for _ in stream:
            pass
    assert code(raised.value) == "SessionStreamingException"


def test_aiobotocore_reads_the_stream_too(live: MotoServer) -> None:
    logs = client(live)
    make_groups(logs, "/lt/aio")

    async def read() -> list[str]:
        session = AwsSession(AwsOptions(endpoint_url=live.endpoint, region="us-east-1"))
        try:
            aio = await session.client("logs")
            answer = await aio.start_live_tail(logGroupIdentifiers=["/lt/aio"])
            got: list[str] = []
            async for event in answer["responseStream"]:
                if "sessionStart" in event:
                    await asyncio.to_thread(put, logs, "/lt/aio", ["async one"])
                got += [r["message"] for r in event.get("sessionUpdate", {}).get("sessionResults", [])]
                if got:
                    return got
            return got
        finally:
            await session.aclose()

    assert asyncio.run(read()) == ["async one"]


def test_start_live_tail_denied_is_access_denied(live: MotoServer) -> None:
    logs = client(live)
    make_groups(logs, "/lt/deny")
    live.faults(deny=["logs:StartLiveTail"])
    try:
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            logs.start_live_tail(logGroupIdentifiers=["/lt/deny"])
        assert code(raised.value) == "AccessDeniedException"
    finally:
        live.faults()


# -- Logs Insights -----------------------------------------------------------------------


def query(logs: Any, text: str, **params: Any) -> dict[str, Any]:
    now = int(time.time())
    answer = logs.start_query(startTime=now - 300, endTime=now + 5, queryString=text, **params)
    return logs.get_query_results(queryId=answer["queryId"])


def rows(result: dict[str, Any]) -> list[dict[str, str]]:
    return [{f["field"]: f["value"] for f in row} for row in result["results"]]


def test_insights_filters_on_literals_and_regexes_across_a_source_prefix(live: MotoServer) -> None:
    logs = client(live)
    make_groups(logs, "/aws/lambda/app-a", "/aws/lambda/app-b", "/aws/lambda/other")
    now = int(time.time() * 1000)
    put(logs, "/aws/lambda/app-a", ["Task timed out after 3.00 seconds", "fine"], ts=now - 2000)
    put(logs, "/aws/lambda/app-b", ["ERROR | x: y", "Task timed out after 9.00 seconds"], ts=now - 1000)
    put(logs, "/aws/lambda/other", ["Task timed out after 1.00 seconds"], ts=now)
    result = query(logs, "SOURCE logGroups(namePrefix: ['/aws/lambda/app-']) "
                         "| fields @timestamp, @message, @logStream, @log "
                         "| filter @message like /Task timed out after \\d/ or @message like 'ERROR |' "
                         "| sort @timestamp desc | limit 2")
    got = rows(result)
    assert result["status"] == "Complete"
    assert [r["@message"] for r in got] == ["ERROR | x: y", "Task timed out after 9.00 seconds"]
    assert got[0]["@log"] == "123456789012:/aws/lambda/app-b" and got[0]["@logStream"] == "s"
    assert set(got[0]) == {"@timestamp", "@message", "@logStream", "@log", "@ptr"}
    assert result["statistics"]["recordsMatched"] == 3.0


def test_insights_by_group_names_and_its_limits(live: MotoServer) -> None:
    logs = client(live)
    names = [f"/i/g{i:02d}" for i in range(51)]
    for name in names:
        logs.create_log_group(logGroupName=name)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        query(logs, "fields @message", logGroupNames=names)
    assert code(raised.value) == "InvalidParameterException"
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        query(logs, "stats count(*) by bin(5m)", logGroupNames=names[:2])
    assert code(raised.value) == "MalformedQueryException"
    logs.create_log_stream(logGroupName=names[0], logStreamName="s")
    put(logs, names[0], ["a|b", "c"])
    assert [r["@message"] for r in rows(query(logs, "fields @message | filter @message like /a\\|b/",
                                              logGroupIdentifiers=names[:50]))] == ["a|b"]


# -- warroom demo --serve --bare -----------------------------------------------------------


def test_demo_serve_bare_is_an_empty_account_with_quotas() -> None:
    env = {**{k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_ENDPOINT_URL")},
           **OFFLINE_ENV}
    process = subprocess.Popen([sys.executable, "-m", "warroom", "demo", "--serve", "--bare", "--latency", "5"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, env=env)
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("endpoint=http://127.0.0.1:")
        server = MotoServer()
        server.port = int(first.rsplit(":", 1)[1])
        config = server.account()["config"]
        assert config["enabled"] is True and config["latency_ms"] == 5.0
        logs = client(server)
        assert logs.describe_log_groups()["logGroups"] == []
        assert client(server, "lambda").list_functions()["Functions"] == []
    finally:
        process.terminate()
        process.wait(timeout=30)


# -- AWS/Logs metrics ----------------------------------------------------------------------


def test_put_log_events_publishes_incoming_log_events_and_bytes_per_group(quotas: MotoServer) -> None:
    import datetime as dt

    logs = client(quotas)
    make_groups(logs, "/met/a", "/met/b")
    put(logs, "/met/a", ["hello", "world", "again"])
    put(logs, "/met/a", ["x" * 100])
    put(logs, "/met/b", ["one"])
    # A refused put (no such stream) is not taken in, so not counted.
    with pytest.raises(botocore.exceptions.ClientError):
        put(logs, "/met/b", ["lost"], stream="missing")
    cloudwatch = client(quotas, "cloudwatch")
    end = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)

    def query(qid: str, metric: str, group: str) -> dict[str, Any]:
        return {"Id": qid, "MetricStat": {"Metric": {
            "Namespace": "AWS/Logs", "MetricName": metric,
            "Dimensions": [{"Name": "LogGroupName", "Value": group}]}, "Period": 60, "Stat": "Sum"}}

    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[query("a", "IncomingLogEvents", "/met/a"), query("b", "IncomingLogEvents", "/met/b"),
                           query("c", "IncomingBytes", "/met/a"), query("d", "IncomingLogEvents", "/met/none")],
        StartTime=end - dt.timedelta(minutes=5), EndTime=end)
    sums = {r["Id"]: sum(r["Values"]) for r in answer["MetricDataResults"]}
    assert sums["a"] == 4 and sums["b"] == 1 and sums["d"] == 0
    assert sums["c"] == len("helloworldagain") + 100 + 4 * 26  # message bytes plus AWS's 26 per event
    # One datapoint a minute per group and metric, however many puts.
    points = {r["Id"]: len(r["Values"]) for r in answer["MetricDataResults"]}
    assert points["a"] in (1, 2)  # 2 only when the puts straddled a minute
    stats = cloudwatch.get_metric_statistics(
        Namespace="AWS/Logs", MetricName="IncomingLogEvents", Statistics=["Sum"], Period=60,
        Dimensions=[{"Name": "LogGroupName", "Value": "/met/a"}],
        StartTime=end - dt.timedelta(minutes=5), EndTime=end)
    assert sum(p["Sum"] for p in stats["Datapoints"]) == 4
