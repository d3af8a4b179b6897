"""Token buckets, backoff and the retrying pacer (against moto with faults for the retries)."""

from __future__ import annotations

import random

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from warroom.aws.pacing import Backoff, Pacer, RetriesExhausted, TokenBucket, classify, no_retry_options
from warroom.aws.session import AwsOptions, AwsSession
from warroom.demo.server import MotoServer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_paces_at_its_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=5.0, clock=clock)
    assert [bucket.try_acquire() for _ in range(5)] == [0.0] * 5
    wait = bucket.try_acquire()
    assert wait == pytest.approx(0.2)
    clock.now += 0.1
    assert bucket.try_acquire() == pytest.approx(0.1)
    clock.now += 0.1
    assert bucket.try_acquire() == 0.0
    clock.now += 60  # idle time does not bank more than the burst
    assert sum(1 for _ in range(20) if bucket.try_acquire() == 0.0) == 5


def test_bucket_rejects_a_non_positive_rate() -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate=0)


def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    backoff = Backoff(base=0.1, cap=2.0)
    rng = random.Random(3)
    for attempt, ceiling in [(0, 0.1), (1, 0.2), (3, 0.8), (5, 2.0), (40, 2.0)]:
        delays = [backoff.delay(attempt, rng) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # spread over the whole range, not a fixed step
        assert min(delays) < ceiling * 0.2


def _client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "x"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "FilterLogEvents")


def test_classify_retryable_failures() -> None:
    assert classify(_client_error("ThrottlingException", 400)) == "throttle"
    assert classify(_client_error("Whatever", 429)) == "throttle"
    assert classify(_client_error("InternalFailure", 500)) == "server"
    assert classify(_client_error("ServiceUnavailable", 503)) == "server"
    assert classify(EndpointConnectionError(endpoint_url="http://x")) == "connection"
    assert classify(_client_error("ResourceNotFoundException", 400)) is None
    assert classify(_client_error("AccessDeniedException", 400)) is None
    assert classify(ValueError("bug")) is None


def test_no_retry_options_turns_off_botocore_retries_only() -> None:
    options = AwsOptions(profile="p", region="eu-west-1", endpoint_url="http://e")
    quiet = no_retry_options(options)
    assert quiet.max_attempts == 0
    assert (quiet.profile, quiet.region, quiet.endpoint_url) == ("p", "eu-west-1", "http://e")


async def test_each_attempt_reaches_the_server_once_and_is_counted(moto: MotoServer) -> None:
    session = AwsSession(no_retry_options(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1")))
    pacer = Pacer({"DescribeLogGroups": 1000.0}, Backoff(base=0.001, cap=0.01))
    async with session:
        logs = await session.client("logs")
        moto.faults(throttle=1.0, targets=["DescribeLogGroups"])
        before = moto.faults(throttle=1.0, targets=["DescribeLogGroups"])["counts"].get("throttled", 0)
        with pytest.raises(RetriesExhausted) as failed:
            await pacer.call("DescribeLogGroups", logs.describe_log_groups, attempts=3)
        # botocore did not retry behind our back: three attempts, three throttles served.
        assert moto.faults()["counts"]["throttled"] - before == 3
        assert pacer.stats.throttled == 3 and pacer.stats.calls == 3
        assert classify(failed.value.last) == "throttle"


async def test_pacer_rides_out_throttles_errors_and_drops(moto: MotoServer) -> None:
    session = AwsSession(no_retry_options(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1")))
    pacer = Pacer({"DescribeLogGroups": 1000.0}, Backoff(base=0.001, cap=0.01), seed=1)
    async with session:
        logs = await session.client("logs")
        await logs.create_log_group(logGroupName="g")
        before = moto.faults(throttle=0.3, error=0.2, drop=0.1, targets=["DescribeLogGroups"],
                             seed=4)["counts"]
        for _ in range(30):
            answer = await pacer.call("DescribeLogGroups", logs.describe_log_groups)
            assert [g["logGroupName"] for g in answer["logGroups"]] == ["g"]
        after = moto.faults()["counts"]
        # The server's counters run for its whole life: compare differences.
        counts = {k: after.get(k, 0) - before.get(k, 0) for k in ("throttled", "errors", "dropped")}
    assert pacer.stats.throttled == counts["throttled"] > 0
    assert pacer.stats.errors == counts["errors"] > 0
    assert pacer.stats.reconnects == counts["dropped"] > 0
    assert pacer.stats.calls == 30 + sum(counts.values())


async def test_errors_retrying_cannot_fix_are_raised_at_once(moto: MotoServer) -> None:
    session = AwsSession(no_retry_options(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1")))
    pacer = Pacer(backoff=Backoff(base=0.001, cap=0.01))
    async with session:
        logs = await session.client("logs")
        with pytest.raises(ClientError) as failed:
            await pacer.call("FilterLogEvents", logs.filter_log_events, logGroupName="missing")
    assert failed.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert pacer.stats.calls == 1
