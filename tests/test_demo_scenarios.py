"""Every scenario shows its playbook's symptom, and every fixable one stops after its fix.

One seeded world per module; the simulator is driven synchronously with a fake clock
(`Simulator.tick(now)`), and what it wrote is read back through ordinary AWS reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from warroom.demo import world as w
from warroom.demo.scenarios import SCENARIOS, Scenario
from warroom.demo.server import MotoServer
from warroom.demo.simulator import Simulator
from warroom.playbook.catalog import load_catalog
from warroom.playbook.matcher import Matcher

HORIZON = 300.0   # every scenario must have shown within five minutes
STEP = 15.0


@pytest.fixture(scope="module")
def catalog() -> Any:
    return load_catalog([])


@pytest.fixture(scope="module")
def played() -> Iterator[tuple[MotoServer, Simulator]]:
    """A world simulated for five minutes of fake time."""
    with MotoServer() as server:
        w.seed(server.endpoint)
        sim = Simulator(server.endpoint, seed=7, rate=5)
        t = sim.t0
        while t <= sim.t0 + HORIZON:
            sim.tick(t)
            t += STEP
        yield server, sim


def _all_lines(client: Any) -> list[tuple[str, str]]:
    logs = client("logs")
    out: list[tuple[str, str]] = []
    for group in w.log_groups():
        for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group, interleaved=True):
            out.extend((group, e["message"]) for e in page["events"])
    return out


def test_every_playbook_in_the_catalog_has_a_scenario(catalog: Any) -> None:
    covered = {s.playbook for s in SCENARIOS}
    assert set(catalog.playbooks) - covered == set()


def test_every_scenario_shows_within_five_minutes(played: tuple[MotoServer, Simulator]) -> None:
    _, sim = played
    never = [s.id for s in SCENARIOS if s.emit is not None and not s.reactive and sim.shown[s.id] == 0]
    assert never == []
    # Reactive ones show as long as their broken state holds (github-token-invalid needs a bad token).
    quiet = [s.id for s in SCENARIOS if s.reactive and s.emit is not None and s.active(sim.state)
             and sim.shown[s.id] == 0]
    assert quiet == []


def test_log_symptoms_match_their_playbooks(played: tuple[MotoServer, Simulator], catalog: Any) -> None:
    server, sim = played
    matcher = Matcher(catalog)
    seen: set[str] = set()
    for group, message in _all_lines(sim.client):
        for line in message.splitlines() or [message]:
            seen.update(m.playbook for m in matcher.match(line, group))
    shown = {s.playbook for s in SCENARIOS if s.emit is not None and sim.shown[s.id]
             and s.surface not in ("probe",)}
    assert shown - seen == set()


def test_first_screen_is_mid_incident(played: tuple[MotoServer, Simulator]) -> None:
    _, sim = played
    first = {s.id for s in SCENARIOS if s.start == 0 and s.reactive}
    assert {"lambda-timeout", "lambda-out-of-memory", "dynamodb-lock-stuck", "secret-value-empty"} <= first


def test_emulated_failures_read_back_through_aws(played: tuple[MotoServer, Simulator]) -> None:
    _, sim = played
    cfn = sim.client("cloudformation")
    assert cfn.describe_stacks(StackName=w.CORE_STACK)["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = [e.get("ResourceStatusReason", "") for e in cfn.describe_stack_events(StackName=w.CORE_STACK)["StackEvents"]
               if e["ResourceStatus"] == "CREATE_FAILED"]
    assert any("already exists" in r for r in reasons)
    cb = sim.client("codebuild")
    ids = cb.list_builds_for_project(projectName=w.KIRO_PROJECT)["ids"]
    statuses = {b["buildStatus"] for b in cb.batch_get_builds(ids=ids)["builds"]}
    assert {"TIMED_OUT", "FAILED"} <= statuses
    subs = sim.client("sns").list_subscriptions_by_topic(TopicArn=sim.world_ids["kiro_topic_arn"])["Subscriptions"]
    assert [s["SubscriptionArn"] for s in subs] == ["PendingConfirmation"]


def test_same_seed_same_run() -> None:
    with MotoServer() as server:
        w.seed(server.endpoint)
        a = Simulator(server.endpoint, seed=3, rate=0, start=1_000.0)
        b = Simulator(server.endpoint, seed=3, rate=0, start=1_000.0)
        c = Simulator(server.endpoint, seed=4, rate=0, start=1_000.0)
    assert a.starts == b.starts
    assert a.starts != c.starts


# -- fixes ------------------------------------------------------------------------------

def _merge_env(client: Any, fn: str, **extra: str) -> None:
    lam = client("lambda")
    env = lam.get_function_configuration(FunctionName=fn)["Environment"]["Variables"]
    lam.update_function_configuration(FunctionName=fn, Environment={"Variables": {**env, **extra}})


def _allow(action: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})


def _fix_route(c: Any) -> None:
    gw = c("apigatewayv2")
    api = next(a for a in gw.get_apis()["Items"] if a["Name"] == w.HTTP_API)
    integration = gw.get_integrations(ApiId=api["ApiId"])["Items"][0]["IntegrationId"]
    gw.create_route(ApiId=api["ApiId"], RouteKey="GET /buildings/{id}", Target=f"integrations/{integration}")


def _fix_ws(c: Any) -> None:
    gw = c("apigatewayv2")
    api = next(a for a in gw.get_apis()["Items"] if a["Name"] == w.WEBSOCKET_API)
    gw.create_deployment(ApiId=api["ApiId"], StageName="dev", Description="deployed by test")


def _fix_sns(c: Any) -> None:
    topic = next(t["TopicArn"] for t in c("sns").list_topics()["Topics"] if t["TopicArn"].endswith(w.KIRO_TOPIC))
    c("sns").subscribe(TopicArn=topic, Protocol="email", Endpoint=w.ONCALL_EMAIL)


def _fix_project(**changes: Any) -> Callable[[Any], None]:
    def apply(c: Any) -> None:
        cb = c("codebuild")
        project = cb.batch_get_projects(names=[w.KIRO_PROJECT])["projects"][0]
        if "buildspec" in changes:
            changes["source"] = {**project["source"], "buildspec": changes.pop("buildspec")}
        cb.update_project(name=w.KIRO_PROJECT, **changes)
    return apply


def _put_param(**changes: Any) -> Callable[[Any], None]:
    def apply(c: Any) -> None:
        value = {**w.GOOD_PROJECT_CONFIG, **changes}
        c("ssm").put_parameter(Name=w.PROJECT_CONFIG, Type="String", Overwrite=True, Value=json.dumps(value))
    return apply


FIXES: dict[str, tuple[Callable[[Any], None], tuple[str, ...]]] = {
    "timeout": (lambda c: c("lambda").update_function_configuration(FunctionName=w.AGENT_PERSONA, Timeout=60),
                ("lambda-timeout",)),
    "memory": (lambda c: c("lambda").update_function_configuration(FunctionName=w.API_HANDLER, MemorySize=512),
               ("lambda-out-of-memory", "lambda-cold-start", "apigw-high-latency")),
    "lock": (lambda c: c("dynamodb").delete_item(TableName=w.LOCKS_TABLE, Key={"lockKey": {"S": w.LOCK_KEY}}),
             ("dynamodb-lock-stuck", "dynamodb-lock-held")),
    "secret": (lambda c: c("secretsmanager").put_secret_value(
        SecretId=w.GITHUB_TOKEN, SecretString="ghp_testTokenTestTokenTestTokenTest0001"),
        ("secret-value-empty", "github-token-invalid")),
    "route": (_fix_route, ("apigw-not-found",)),
    "tracing": (lambda c: c("lambda").update_function_configuration(
        FunctionName=w.WEBSOCKET_HANDLER, TracingConfig={"Mode": "Active"}), ("xray-tracing-missing",)),
    "sns": (_fix_sns, ("sns-email-not-confirmed",)),
    "alarm": (lambda c: c("cloudwatch").enable_alarm_actions(AlarmNames=[w.BUILD_FAILURES_ALARM]),
              ("alarm-not-triggering",)),
    "stack": (lambda c: c("cloudformation").delete_stack(StackName=w.CORE_STACK),
              ("cfn-stack-rollback", "s3-bucket-already-exists", "dynamodb-table-already-exists",
               "lambda-code-size-exceeded")),
    "cancel": (lambda c: c("cloudformation").cancel_update_stack(StackName=w.MONITORING_STACK),
               ("cfn-deployment-timeout",)),
    "concurrency": (lambda c: c("lambda").put_function_concurrency(
        FunctionName=w.AGENT_PERSONA, ReservedConcurrentExecutions=50), ("aws-throttling",)),
    "role": (lambda c: [c("iam").put_role_policy(RoleName=w.BOS_ROLE, PolicyName=f"fix-{a.replace(':', '-')}",
                                                 PolicyDocument=_allow(a))
                        for a in ("dynamodb:PutItem", "kms:Decrypt")], ("iam-access-denied", "kms-decrypt-denied")),
    "poller-role": (lambda c: [c("iam").put_role_policy(RoleName=w.KIRO_POLLER_ROLE, PolicyName=f"fix-{i}",
                                                        PolicyDocument=_allow(a))
                               for i, a in enumerate(("cloudwatch:PutMetricData", "codebuild:StartBuild"))],
                    ("cloudwatch-metrics-missing", "codebuild-start-denied")),
    "passrole": (lambda c: c("iam").put_user_policy(UserName=w.DEPLOYER_USER, PolicyName="KiroWorkerPassRole",
                                                    PolicyDocument=_allow("iam:PassRole")), ("iam-passrole-denied",)),
    "layer": (lambda c: c("lambda").update_function_configuration(
        FunctionName=w.WEBSOCKET_HANDLER,
        Layers=[c("lambda").list_layer_versions(LayerName=w.BOS_LAYER)["LayerVersions"][0]["LayerVersionArn"]]),
        ("python-module-not-found",)),
    "runtime": (lambda c: c("lambda").update_function_configuration(FunctionName=w.EVENT_PROCESSOR,
                                                                    Runtime="python3.11"), ("python-import-error",)),
    "ws": (_fix_ws, ("websocket-connection-failed",)),
    "permission": (lambda c: c("lambda").add_permission(
        FunctionName=w.AGENT_PERSONA, StatementId="apigw-invoke", Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com"), ("apigw-internal-error",)),
    "log-group": (lambda c: c("logs").create_log_group(logGroupName=f"/aws/lambda/{w.NOTIFIER}"),
                  ("cloudwatch-logs-missing",)),
    "billing": (lambda c: c("dynamodb").update_table(TableName=w.LOCKS_TABLE, BillingMode="PAY_PER_REQUEST"),
                ("dynamodb-throttling",)),
    "build-timeout": (_fix_project(timeoutInMinutes=120), ("codebuild-build-timeout",)),
    "buildspec": (_fix_project(buildspec="buildspec.yml"), ("codebuild-buildspec-missing",)),
    "tf-lock": (lambda c: c("dynamodb").delete_item(
        TableName=w.TF_LOCK_TABLE, Key={"LockID": {"S": "bos-dev-terraform-state/dev/terraform.tfstate"}}),
        ("terraform-state-lock",)),
    "kms": (lambda c: c("kms").enable_key(KeyId=c("kms").describe_key(KeyId=w.BOS_KEY_ALIAS)["KeyMetadata"]["KeyId"]),
            ("kms-key-unavailable",)),
    "git-creds": (lambda c: c("secretsmanager").put_secret_value(
        SecretId=w.GIT_CREDENTIALS, SecretString=json.dumps(w.GOOD_GIT_CREDENTIALS)),
        ("git-credentials-invalid-json", "codebuild-git-auth-failed")),
    "env": (lambda c: _merge_env(c, w.POLLER, LOCKS_TABLE_NAME=w.LOCKS_TABLE), ("lambda-env-var-missing",)),
    "param": (_put_param(), ("github-project-not-found", "github-work-items-not-found")),
}


def test_every_reactive_scenario_has_a_fix_test() -> None:
    fixed = {sid for _, sids in FIXES.values() for sid in sids}
    assert {s.id for s in SCENARIOS if s.reactive} - fixed == set()


@pytest.fixture(scope="module")
def broken() -> Iterator[Simulator]:
    """A world past every scheduled break, shared by the fix tests (each fixes its own part)."""
    with MotoServer() as server:
        w.seed(server.endpoint)
        sim = Simulator(server.endpoint, seed=11, rate=0)
        for step in range(0, int(HORIZON) + 1, 30):
            sim.tick(sim.t0 + step)
        sim.clock = sim.t0 + HORIZON  # type: ignore[attr-defined]
        yield sim


@pytest.mark.parametrize("name", sorted(FIXES))
def test_fix_stops_the_scenario(broken: Simulator, name: str) -> None:
    sim = broken
    apply, ids = FIXES[name]
    scenarios: list[Scenario] = [next(s for s in SCENARIOS if s.id == sid) for sid in ids]
    before = [s.id for s in scenarios if s.active is not None and s.active(sim.state)]
    if name == "secret":  # a non-token value first: the world answers 401 until a real-looking token
        sim.client("secretsmanager").put_secret_value(SecretId=w.GITHUB_TOKEN, SecretString="placeholder")
        sim.clock += 60  # type: ignore[attr-defined]
        sim.tick(sim.clock)  # type: ignore[attr-defined]
        assert sim.state is not None and "github-token-invalid" in sim.active_scenarios()
        before.append("github-token-invalid")
    assert before, f"{ids} were not broken before the fix"
    apply(sim.client)
    shown = {sid: sim.shown[sid] for sid in ids}
    for _ in range(2):  # the world reacts (stack redeploys, email confirmed) and stays fixed
        sim.clock += 100  # type: ignore[attr-defined]
        sim.tick(sim.clock)  # type: ignore[attr-defined]
    still = [s.id for s in scenarios if s.active is not None and s.active(sim.state)]
    assert still == []
    assert {sid: sim.shown[sid] for sid in ids} == shown
