"""The seeded world: named as the guides name it, up and down cleanly."""

from __future__ import annotations

from tests.demo_helpers import alive, children_of, wait_until
from warroom.demo import world as w
from warroom.demo.launcher import DemoWorld


def test_world_comes_up_named_as_the_guides_and_goes_down_cleanly() -> None:
    with DemoWorld(seed=1, rate=0) as demo:
        # The demo's own processes and theirs: other tests' servers may share this worker.
        assert demo.server.process is not None and demo.simulator is not None
        roots = {demo.server.process.pid, demo.simulator.pid}
        kids = roots | {k for pid in roots for k in children_of(pid)}
        client = w.clients(demo.endpoint)
        names = {f["FunctionName"] for f in client("lambda").list_functions()["Functions"]}
        assert {w.AGENT_PERSONA, w.API_HANDLER, w.WEBSOCKET_HANDLER, w.POLLER} <= names
        assert w.LOCKS_TABLE in client("dynamodb").list_tables()["TableNames"]
        assert client("codebuild").batch_get_projects(names=[w.KIRO_PROJECT])["projects"]
        assert client("ssm").get_parameter(Name=w.PROJECT_CONFIG)["Parameter"]["Value"]
        assert {a["Name"] for a in client("apigatewayv2").get_apis()["Items"]} == {w.HTTP_API, w.WEBSOCKET_API}
        groups = {g["logGroupName"] for g in client("logs").describe_log_groups()["logGroups"]}
        assert f"/aws/codebuild/{w.KIRO_PROJECT}" in groups
        assert f"/aws/lambda/{w.NOTIFIER}" not in groups  # the logs-missing scenario
        lock = client("dynamodb").get_item(TableName=w.LOCKS_TABLE, Key={"lockKey": {"S": w.LOCK_KEY}})["Item"]
        assert int(lock["ttl"]["N"]) < demo.world.started  # older than its TTL
        assert demo.simulator is not None and demo.simulator.poll() is None
    wait_until(lambda: not any(alive(k) for k in kids), timeout=15, what="demo children to exit")
