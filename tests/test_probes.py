"""Every state probe on seeded good and bad state in moto."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence

from tests import awsseed as seed
from warroom.aws.discovery import Inventory, discover
from warroom.aws.probes import PROBES, ProbeContext, resolve_params, run_probes
from warroom.aws.session import AwsOptions, AwsSession
from warroom.demo.server import MotoServer
from warroom.incident.records import Finding
from warroom.playbook.model import PROBE_KINDS


def probe_playbook(pid: str, probe: str, params: dict | None = None, playbook_params: str = "") -> str:
    block = f"  - probe: {probe}\n" + (f"    params: {json.dumps(params)}\n" if params else "")
    return seed.playbook_yaml(pid, block, playbook_params)


# The services each probe reads (moto builds a backend lazily per service after each reset,
# so listing only these keeps the tests quick).
SERVICES = {
    "sns-subscription-pending": ["sns"], "secret-missing": ["secretsmanager"],
    "secret-empty": ["secretsmanager"], "secret-invalid-json": ["secretsmanager"],
    "lock-expired": ["dynamodb"], "log-group-missing": ["lambda", "logs"],
    "log-streams-missing": ["lambda", "logs"], "metrics-missing": ["lambda"],
    "tracing-off": ["lambda"], "alarm-no-actions": ["cloudwatch"],
    "alarm-insufficient-data": ["cloudwatch"], "env-var-missing": ["lambda"], "kms-key-disabled": ["kms"],
    "stack-failed": ["cloudformation"], "codebuild-project-missing": ["codebuild"],
    "function-missing": ["lambda"],
}


async def probe(moto: MotoServer, *playbooks: str, prefixes: Sequence[str] = (),
                edit: object = None) -> tuple[list[Finding], list[str]]:
    """Discover, optionally edit the inventory (state moto cannot produce), run the probes."""
    catalog = seed.catalog_of(*playbooks)
    services = sorted({svc for pb in catalog for s in pb.probe_symptoms for svc in SERVICES[s.probe]})
    async with AwsSession(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1")) as session:
        inventory = await discover(session, prefixes, services)
        if callable(edit):
            inventory = edit(inventory)
        ctx = ProbeContext(session, inventory, prefixes)
        findings = await run_probes(ctx, catalog)
        return findings, ctx.warnings


def on(findings: list[Finding]) -> set[str]:
    return {f.resource for f in findings}


def test_every_probe_kind_is_implemented_and_tested() -> None:
    assert set(PROBES) == set(PROBE_KINDS) == set(SERVICES)


async def test_sns_subscription_pending(moto: MotoServer) -> None:
    sns = seed.client(moto.endpoint, "sns")
    arn = sns.create_topic(Name="app-alerts")["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="oncall@example.com")
    pb = probe_playbook("pb", "sns-subscription-pending", {"topic": "app-alerts"})
    good, _ = await probe(moto, pb)
    assert good == []  # moto confirms subscriptions at once

    # moto cannot leave a subscription pending; real SNS lists it with this placeholder ARN.
    def pending(inventory: Inventory) -> Inventory:
        topic = inventory.get("topic", "app-alerts")
        assert topic is not None
        subs = [{**s, "SubscriptionArn": "PendingConfirmation"} for s in topic.attributes["Subscriptions"]]
        edited = dataclasses.replace(topic, attributes={**topic.attributes, "Subscriptions": subs})
        inventory.resources = [edited if r is topic else r for r in inventory.resources]
        return inventory

    bad, _ = await probe(moto, pb, edit=pending)
    assert [(f.playbook, f.resource, f.kind, f.resource_kind) for f in bad] == [
        ("pb", "app-alerts", "probe", "topic")]
    assert "oncall@example.com" in bad[0].evidence and "pending confirmation" in bad[0].evidence


async def test_secret_missing_only_in_scope(moto: MotoServer) -> None:
    sm = seed.client(moto.endpoint, "secretsmanager")
    sm.create_secret(Name="app-dev-token", SecretString="t0ken")
    pb = probe_playbook("pb", "secret-missing", {"secret": ["app-dev-token", "app-dev-git", "other-thing-x"]})
    findings, _ = await probe(moto, pb, prefixes=["app-dev"])
    assert on(findings) == {"app-dev-git"}
    assert findings[0].resource_kind == "secret" and "does not exist" in findings[0].evidence
    # Without --prefix, a name is in scope when something discovered shares its family.
    findings, _ = await probe(moto, pb)
    assert on(findings) == {"app-dev-git"}


async def test_secret_empty_never_shows_the_value(moto: MotoServer) -> None:
    sm = seed.client(moto.endpoint, "secretsmanager")
    sm.create_secret(Name="s-blank", SecretString="   ")
    sm.create_secret(Name="s-placeholder", SecretString="placeholder")
    sm.create_secret(Name="s-novalue")
    sm.create_secret(Name="s-good", SecretString="ghp_sup3rsecretvalue0123456789abcdef")
    findings, warnings = await probe(moto, probe_playbook("pb", "secret-empty"))
    assert on(findings) == {"s-blank", "s-placeholder", "s-novalue"}, warnings
    assert all("ghp_" not in f.evidence and "placeholder\"" not in f.evidence for f in findings)


async def test_secret_invalid_json(moto: MotoServer) -> None:
    sm = seed.client(moto.endpoint, "secretsmanager")
    sm.create_secret(Name="c-plain", SecretString="ghp_notjsonatall0123456789abcdef")
    sm.create_secret(Name="c-partial", SecretString=json.dumps({"username": "git"}))
    sm.create_secret(Name="c-good", SecretString=json.dumps({"username": "git", "password": "pw-0123"}))
    pb = probe_playbook("pb", "secret-invalid-json", {"secret": "c-*", "keys": ["username", "password"]})
    findings, _ = await probe(moto, pb)
    by = {f.resource: f.evidence for f in findings}
    assert set(by) == {"c-plain", "c-partial"}
    assert "not valid JSON" in by["c-plain"] and "ghp_" not in by["c-plain"]
    assert "lacks password" in by["c-partial"] and "pw-0123" not in str(findings)


async def test_lock_expired(moto: MotoServer) -> None:
    ddb = seed.client(moto.endpoint, "dynamodb")
    ddb.create_table(TableName="w-locks", KeySchema=[{"AttributeName": "lockKey", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "lockKey", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    now = int(time.time())
    ddb.put_item(TableName="w-locks", Item={"lockKey": {"S": "fresh"}, "ttl": {"N": str(now + 3600)}})
    pb = probe_playbook("pb", "lock-expired", {"table": "w-locks", "ttl_attribute": "ttl",
                                               "max_age_seconds": 7200})
    good, _ = await probe(moto, pb)
    assert good == []
    ddb.put_item(TableName="w-locks", Item={"lockKey": {"S": "stale"}, "ttl": {"N": str(now - 3 * 3600)}})
    ddb.put_item(TableName="w-locks", Item={"lockKey": {"S": "old-no-ttl"},
                                            "acquiredAt": {"S": "2020-01-01T00:00:00Z"}})
    bad, _ = await probe(moto, pb)
    assert sorted(f.captures["lock_id"] for f in bad) == ["old-no-ttl", "stale"]
    assert any("expired 3 h" in f.evidence for f in bad)


async def test_log_group_and_streams_missing(moto: MotoServer) -> None:
    seed.function(moto.endpoint, "fn-with-logs")
    seed.function(moto.endpoint, "fn-without-logs", log_group=False)
    seed.log_stream(moto.endpoint, "/aws/lambda/fn-with-logs", "2024/01/01/[$LATEST]a", ["hello"])
    seed.client(moto.endpoint, "logs").create_log_group(logGroupName="/aws/lambda/fn-silent")
    catalog = [probe_playbook("groups", "log-group-missing"), probe_playbook("streams", "log-streams-missing")]
    moto.account(reset_counts=True)
    findings, _ = await probe(moto, *catalog)
    assert {(f.playbook, f.resource) for f in findings} == {
        ("groups", "fn-without-logs"), ("streams", "/aws/lambda/fn-silent")}
    counts = moto.account()["counts"]
    # The group that stores bytes is known to have streams: only the silent one is asked.
    assert counts["DescribeLogStreams"]["calls"] == 1
    # Discovery listed every group: the missing one is known missing without asking.
    assert counts["DescribeLogGroups"]["calls"] == 1


async def test_a_log_group_the_prefixes_left_out_is_asked_about(moto: MotoServer) -> None:
    """A function in scope may write to a group of another name (its LoggingConfig), which
    discovery's prefix filter did not keep: that one is looked up."""
    seed.function(moto.endpoint, "fn-shared", log_group=False)
    seed.function(moto.endpoint, "fn-gone", log_group=False)
    seed.client(moto.endpoint, "logs").create_log_group(logGroupName="/shared/app")

    def shared_group(inventory: Inventory) -> Inventory:  # moto drops LoggingConfig
        inventory.resources = [dataclasses.replace(r, log_group="/shared/app") if r.name == "fn-shared" else r
                               for r in inventory.resources]
        return inventory

    moto.account(reset_counts=True)
    findings, _ = await probe(moto, probe_playbook("groups", "log-group-missing"), prefixes=("fn-",),
                              edit=shared_group)
    assert on(findings) == {"fn-gone"}
    assert moto.account()["counts"]["DescribeLogGroups"]["calls"] == 2  # the listing; /shared/app


async def test_metrics_missing(moto: MotoServer) -> None:
    seed.function(moto.endpoint, "m-busy")
    seed.function(moto.endpoint, "m-idle")
    seed.put_metric(moto.endpoint, "AWS/Lambda", "Invocations", "FunctionName", "m-busy", [5])
    pb = probe_playbook("pb", "metrics-missing",
                        {"namespace": "{namespace}", "metric": "{metric}", "function": "{function}"},
                        "  function: {resource: function, default: m-busy}\n"
                        "  namespace: {default: AWS/Lambda}\n  metric: {default: Invocations}\n")
    findings, warnings = await probe(moto, pb)
    assert on(findings) == {"m-idle"}, warnings  # '{function}': every function, not the default
    assert "Invocations" in findings[0].evidence


async def test_tracing_off(moto: MotoServer) -> None:
    seed.function(moto.endpoint, "t-traced", tracing="Active")
    seed.function(moto.endpoint, "t-untraced")
    findings, _ = await probe(moto, probe_playbook("pb", "tracing-off"))
    assert on(findings) == {"t-untraced"}
    assert findings[0].captures == {}


async def test_alarm_probes(moto: MotoServer) -> None:
    cw = seed.client(moto.endpoint, "cloudwatch")
    common = {"MetricName": "Errors", "Namespace": "AWS/Lambda", "Statistic": "Sum", "Period": 60,
              "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanThreshold"}
    cw.put_metric_alarm(AlarmName="a-good", AlarmActions=["arn:aws:sns:us-east-1:123456789012:t"], **common)
    cw.put_metric_alarm(AlarmName="a-disabled", ActionsEnabled=False,
                        AlarmActions=["arn:aws:sns:us-east-1:123456789012:t"], **common)
    cw.put_metric_alarm(AlarmName="a-silent", **common)
    for name in ("a-good", "a-disabled", "a-silent"):
        cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="fine")
    cw.set_alarm_state(AlarmName="a-silent", StateValue="INSUFFICIENT_DATA", StateReason="no datapoints")
    catalog = [probe_playbook("actions", "alarm-no-actions"),
               probe_playbook("nodata", "alarm-insufficient-data", {"alarm": "a-*"})]
    findings, _ = await probe(moto, *catalog)
    got = {(f.playbook, f.resource) for f in findings}
    assert got == {("actions", "a-disabled"), ("actions", "a-silent"), ("nodata", "a-silent")}


async def test_env_var_missing_uses_the_default_function(moto: MotoServer) -> None:
    seed.function(moto.endpoint, "e-worker", env={"GITHUB_TOKEN": "ghp_valuethatmustnotleak000000000000"})
    seed.function(moto.endpoint, "e-other", env={})
    pb = probe_playbook("pb", "env-var-missing", {"function": "{function}", "variable": "{variable}"},
                        "  function: {resource: function, default: e-worker}\n"
                        "  variable: {default: LOCKS_TABLE_NAME}\n")
    findings, _ = await probe(moto, pb)
    # A requirement of one function, not of every function in the account.
    assert [(f.resource, f.captures["variable"]) for f in findings] == [("e-worker", "LOCKS_TABLE_NAME")]
    ok = probe_playbook("pb", "env-var-missing", {"function": "e-worker", "variable": "GITHUB_TOKEN"})
    assert (await probe(moto, ok))[0] == []


async def test_kms_key_disabled(moto: MotoServer) -> None:
    kms = seed.client(moto.endpoint, "kms")
    keys = {}
    for alias in ("k-on", "k-off", "k-gone"):
        keys[alias] = kms.create_key(Description=alias)["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=keys[alias])
    kms.disable_key(KeyId=keys["k-off"])
    kms.schedule_key_deletion(KeyId=keys["k-gone"], PendingWindowInDays=7)
    findings, _ = await probe(moto, probe_playbook("pb", "kms-key-disabled", {"key": "alias/k-*"}))
    by = {f.resource: f.evidence for f in findings}
    assert set(by) == {"k-off", "k-gone"}
    assert "Disabled" in by["k-off"] and "PendingDeletion" in by["k-gone"]


async def test_stack_failed(moto: MotoServer) -> None:
    seed.stack(moto.endpoint, "s-app")
    pb = probe_playbook("pb", "stack-failed")
    assert (await probe(moto, pb))[0] == []

    # moto's stacks always succeed; a real failed create ends in ROLLBACK_COMPLETE.
    def rolled_back(inventory: Inventory) -> Inventory:
        inventory.resources = [dataclasses.replace(r, attributes={
            **r.attributes, "StackStatus": "ROLLBACK_COMPLETE",
            "StackStatusReason": "The following resource(s) failed to create: [LocksTable]."})
            if r.kind == "stack" else r for r in inventory.resources]
        return inventory

    bad, _ = await probe(moto, pb, edit=rolled_back)
    assert on(bad) == {"s-app"}
    assert "ROLLBACK_COMPLETE" in bad[0].evidence and "LocksTable" in bad[0].evidence


async def test_codebuild_project_and_function_missing(moto: MotoServer) -> None:
    seed.client(moto.endpoint, "codebuild").create_project(
        name="p-build", source={"type": "S3", "location": "bucket/src.zip"},
        artifacts={"type": "NO_ARTIFACTS"}, serviceRole=seed.lambda_role(moto.endpoint),
        environment={"type": "LINUX_CONTAINER", "image": "img", "computeType": "BUILD_GENERAL1_SMALL"})
    seed.function(moto.endpoint, "p-fn")
    catalog = [probe_playbook("proj", "codebuild-project-missing", {"project": ["p-build", "p-gone"]}),
               probe_playbook("fn", "function-missing", {"function": ["p-fn", "p-absent"]})]
    findings, warnings = await probe(moto, *catalog, prefixes=["p-"])
    assert {(f.playbook, f.resource, f.resource_kind) for f in findings} == {
        ("proj", "p-gone", "project"), ("fn", "p-absent", "function")}, warnings


async def test_a_missing_probe_with_only_a_placeholder_has_nothing_to_check(moto: MotoServer) -> None:
    seed.function(moto.endpoint, "q-fn")
    pb = probe_playbook("pb", "function-missing", {"function": "{function}"},
                        "  function: {resource: function}\n")
    assert (await probe(moto, pb))[0] == []


def test_resolve_params() -> None:
    text = probe_playbook("pb", "tracing-off", {"function": "{function}", "other": "{thing}-x"},
                          "  function: {resource: function, default: f1}\n  thing: {default: abc}\n")
    playbook = seed.catalog_of(text).get("pb")
    params, targets = resolve_params(playbook, playbook.probe_symptoms[0])
    assert params == {"other": "abc-x"}
    assert targets["function"].every
