"""`warroom check` reports the symptoms that appeared in the scope's log groups in the last
`--since`: read by Logs Insights (one query per 50 groups, filtered on what a symptom needs),
confirmed by the matcher, attributed to the group's resource."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests import awsseed as seed
from tests.corpus import symptom_samples
from tests.test_check_cli import warroom
from warroom.aws.health import Checker
from warroom.aws.insights import literal_filter
from warroom.aws.scope import Scope
from warroom.aws.session import AwsOptions, AwsSession
from warroom.demo.server import MotoServer
from warroom.playbook.catalog import load_catalog
from warroom.playbook.matcher import Matcher

TIMEOUT = "2024-05-01T10:15:32Z 1 Task timed out after 30.03 seconds"
NEAR_MISS = "Task timed out? no: retried in 3 s"  # holds a literal; the matcher says no


def put(moto: MotoServer, group: str, stream: str, lines: list[tuple[int, str]]) -> None:
    logs = seed.client(moto.endpoint, "logs")
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": ts, "message": m} for ts, m in lines])


async def test_log_symptoms_since_then_on_the_groups_resource(moto: MotoServer) -> None:
    now = int(time.time() * 1000)
    seed.function(moto.endpoint, "cl-slow")
    seed.function(moto.endpoint, "cl-quiet")
    seed.function(moto.endpoint, "other-slow")  # outside the scope
    put(moto, "/aws/lambda/cl-slow", "s", [(now - 3 * 3600_000, TIMEOUT),  # before --since
                                          (now - 60_000, TIMEOUT), (now - 50_000, NEAR_MISS)])
    put(moto, "/aws/lambda/cl-quiet", "s", [(now - 60_000, "START RequestId: 1 Version: $LATEST")])
    put(moto, "/aws/lambda/other-slow", "s", [(now - 60_000, TIMEOUT)])
    moto.account(reset_counts=True)
    async with AwsSession(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1")) as session:
        result = await Checker(session, load_catalog(), scope=Scope(prefixes=("cl-",))).run_once(now - 15 * 60_000)
    logs = [f for f in result.findings if f.kind == "log"]
    assert [(f.playbook, f.resource, f.resource_kind, f.evidence) for f in logs] == [
        ("lambda-timeout", "cl-slow", "function", TIMEOUT)]
    assert logs[0].captures.get("timeout") == "30.03" and logs[0].time == now - 60_000
    counts = moto.account()["counts"]
    assert counts["StartQuery"]["calls"] == 1, counts  # both groups in one query
    assert "FilterLogEvents" not in counts, counts


async def test_a_function_without_a_log_group_leaves_the_others_read(moto: MotoServer) -> None:
    """A Logs Insights query over a group that does not exist fails as a whole: the group
    is left out of it (and reported missing), the others are read."""
    now = int(time.time() * 1000)
    seed.function(moto.endpoint, "cl-slow")
    seed.function(moto.endpoint, "cl-never-run", log_group=False)
    put(moto, "/aws/lambda/cl-slow", "s", [(now - 60_000, TIMEOUT)])
    moto.account(reset_counts=True)
    async with AwsSession(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1")) as session:
        result = await Checker(session, load_catalog(), scope=Scope(prefixes=("cl-",))).run_once(now - 15 * 60_000)
    assert [(f.playbook, f.resource) for f in result.findings if f.kind == "log"] == [("lambda-timeout", "cl-slow")]
    assert ("cloudwatch-logs-missing", "cl-never-run") in [(f.playbook, f.resource) for f in result.findings]
    assert result.warnings == []
    counts = moto.account()["counts"]
    assert counts["StartQuery"]["calls"] == 1, counts
    # Discovery's listing, no more: it listed every group the prefix passes, and not that one.
    assert counts["DescribeLogGroups"]["calls"] == 1, counts


async def test_no_since_no_log_query(moto: MotoServer) -> None:
    """The console's periodic checks leave log lines to its live tail."""
    seed.function(moto.endpoint, "cl-slow")
    put(moto, "/aws/lambda/cl-slow", "s", [(int(time.time() * 1000), TIMEOUT)])
    moto.account(reset_counts=True)
    async with AwsSession(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1")) as session:
        result = await Checker(session, load_catalog(), scope=Scope(prefixes=("cl-",))).run_once()
    assert not [f for f in result.findings if f.kind == "log"]
    assert "StartQuery" not in moto.account()["counts"]


def test_the_filter_keeps_every_line_a_symptom_could_match_and_fits_a_query() -> None:
    """Every line of the symptom corpus that the matcher matches passes the Insights filter
    (as the offline account reads it), and the query fits AWS's 10,000 characters."""
    from warroom.aws.insights import QUERY
    from warroom.demo.insights import parse

    matcher = Matcher(load_catalog())
    where = literal_filter([(e.conjuncts[0], e.caseless) for e in matcher.entries if e.conjuncts])
    assert where is not None and len(QUERY) + len(where) + len(" | filter ") <= 10_000
    keeps = parse(f"fields @message | filter {where}").predicate
    assert keeps is not None
    lines = [sample.line for sample in symptom_samples()]
    matched = [line for line in lines if matcher.match(line)]
    assert len(matched) > 100
    missed = [line for line in matched if not keeps({"@message": line})]
    assert missed == []


def test_literals_too_many_for_one_query_are_cut_to_the_longest_length_that_fits() -> None:
    from warroom.aws.insights import MAX_QUERY, QUERY

    literals = [(frozenset({f"{i:04d} distinct failure text here"}), False) for i in range(1000)]
    where = literal_filter(literals)
    assert where is not None and where.startswith("@message like /") and where.endswith("/")
    terms = where.removeprefix("@message like /").removesuffix("/").split("|")
    # Whole, or cut to 12 characters, they do not fit; cut to 8 ("0042 dis") they do.
    assert len(terms) == 1000 and {len(t) for t in terms} == {8}
    assert len(QUERY) + len(where) + len(" | filter ") <= MAX_QUERY < 1000 * 13


def test_warroom_check_since_as_json(moto: MotoServer, tmp_path: Path) -> None:
    seed.function(moto.endpoint, "cl-slow")
    now = int(time.time() * 1000)
    put(moto, "/aws/lambda/cl-slow", "s", [(now - 20 * 60_000, TIMEOUT)])
    base = ["--endpoint-url", moto.endpoint, "--region", "us-east-1", "check", "--prefix", "cl-", "--json"]
    recent = warroom(*base)  # 15m by default: the line is older
    assert not [f for f in map(json.loads, recent.stdout.splitlines()) if f["kind"] == "log"], recent.stderr
    wider = warroom(*base, "--since", "30m")
    found = [f for f in map(json.loads, wider.stdout.splitlines()) if f["kind"] == "log"]
    assert wider.returncode == 1 and [(f["playbook"], f["resource"]) for f in found] == [
        ("lambda-timeout", "cl-slow")], wider.stderr
    bad = warroom(*base, "--since", "yesterday")
    assert bad.returncode == 2 and "--since 'yesterday'" in bad.stderr
