"""Discovery of seeded resources, prefix filtering, partial failure, and deploy records."""

from __future__ import annotations

import json

import pytest

from tests import awsseed as seed
from warroom.aws.buildlogs import build_log, failed_build_logs
from warroom.aws.discovery import discover, name_matches
from warroom.aws.session import AwsOptions, AwsSession
from warroom.aws.stackevents import stack_events
from warroom.demo.server import MotoServer
from warroom.errors import UserError
from warroom.incident.records import Resource
from warroom.playbook.matcher import Matcher

SECRET_VALUE = "ghp_aaaaBBBBccccDDDDeeeeFFFFgggg0123"


def options(moto: MotoServer, **extra: object) -> AwsOptions:
    return AwsOptions(endpoint_url=moto.endpoint, region="us-east-1", **extra)  # type: ignore[arg-type]


def seed_world(endpoint: str) -> None:
    seed.function(endpoint, "app-dev-api", env={"GITHUB_TOKEN": SECRET_VALUE, "STAGE": "dev"},
                  tracing="Active", timeout=60, memory=1024)
    seed.function(endpoint, "other-fn")
    apigw = seed.client(endpoint, "apigatewayv2")
    apigw.create_api(Name="app-dev-http", ProtocolType="HTTP")
    apigw.create_api(Name="app-dev-ws", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")
    seed.client(endpoint, "dynamodb").create_table(
        TableName="app-dev-locks", KeySchema=[{"AttributeName": "lockKey", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "lockKey", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    seed.client(endpoint, "dynamodb").update_time_to_live(
        TableName="app-dev-locks", TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
    codebuild = seed.client(endpoint, "codebuild")
    codebuild.create_project(
        name="app-dev-build", source={"type": "S3", "location": "bucket/src.zip"},
        artifacts={"type": "NO_ARTIFACTS"}, serviceRole=seed.lambda_role(endpoint),
        environment={"type": "LINUX_CONTAINER", "image": "img", "computeType": "BUILD_GENERAL1_SMALL"})
    codebuild.start_build(projectName="app-dev-build")
    seed.stack(endpoint, "app-dev-stack")
    sns = seed.client(endpoint, "sns")
    topic = sns.create_topic(Name="app-dev-alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="oncall@example.com")
    seed.client(endpoint, "secretsmanager").create_secret(Name="app-dev-token", SecretString=SECRET_VALUE)
    kms = seed.client(endpoint, "kms")
    key = kms.create_key(Description="app key")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/app-dev-key", TargetKeyId=key)
    seed.client(endpoint, "cloudwatch").put_metric_alarm(
        AlarmName="app-dev-errors", MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
        Dimensions=[{"Name": "FunctionName", "Value": "app-dev-api"}], ActionsEnabled=False)
    seed.client(endpoint, "ssm").put_parameter(Name="/app-dev/db-url", Value="postgres://x", Type="String")
    seed.client(endpoint, "s3").create_bucket(Bucket="app-dev-artifacts")


def test_name_matches() -> None:
    assert name_matches("anything", [])
    assert name_matches("bos-dev-api", ["kiro", "bos-dev"])
    assert name_matches("/aws/lambda/bos-dev-api", ["bos-dev"])
    assert name_matches("/bos-dev/db/url", ["bos-dev"])
    assert not name_matches("my-bos-dev-api", ["bos-dev"])
    assert not name_matches("kiro-worker", ["bos-dev", ""])


async def test_discovers_every_kind_filtered_by_prefix(moto: MotoServer) -> None:
    seed_world(moto.endpoint)
    async with AwsSession(options(moto)) as session:
        inventory = await discover(session, ["app-dev"])
    assert inventory.warnings == []
    names = {(r.kind, r.name) for r in inventory.resources}
    assert names >= {
        ("function", "app-dev-api"), ("log_group", "/aws/lambda/app-dev-api"), ("api", "app-dev-http"),
        ("api", "app-dev-ws"), ("table", "app-dev-locks"), ("project", "app-dev-build"),
        ("stack", "app-dev-stack"), ("topic", "app-dev-alerts"), ("secret", "app-dev-token"),
        ("key", "app-dev-key"), ("alarm", "app-dev-errors"), ("parameter", "/app-dev/db-url"),
        ("bucket", "app-dev-artifacts")}
    assert not any("other-fn" in r.name for r in inventory.resources)

    fn = inventory.get("function", "app-dev-api")
    assert fn is not None and fn.log_group == "/aws/lambda/app-dev-api"
    assert fn.attributes["Timeout"] == 60 and fn.attributes["MemorySize"] == 1024
    assert fn.attributes["TracingMode"] == "Active"
    assert fn.attributes["EnvironmentVariables"] == ["GITHUB_TOKEN", "STAGE"]
    assert fn.attributes["Layers"] == []
    protocols = {r.name: r.attributes["ProtocolType"] for r in inventory.of_kind("api")}
    assert protocols == {"app-dev-http": "HTTP", "app-dev-ws": "WEBSOCKET"}
    table = inventory.get("table", "app-dev-locks")
    assert table and table.attributes["KeySchema"] == {"HASH": "lockKey"}
    assert table.attributes["TimeToLiveAttribute"] == "ttl"
    project = inventory.get("project", "app-dev-build")
    assert project and len(project.attributes["builds"]) == 1
    assert project.attributes["builds"][0]["id"].startswith("app-dev-build:")
    assert inventory.get("stack", "app-dev-stack").attributes["StackStatus"] == "CREATE_COMPLETE"
    subs = inventory.get("topic", "app-dev-alerts").attributes["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [("email", "oncall@example.com")]
    assert inventory.get("key", "app-dev-key").attributes["KeyState"] == "Enabled"
    alarm = inventory.get("alarm", "app-dev-errors").attributes
    assert alarm["ActionsEnabled"] is False and alarm["Dimensions"] == {"FunctionName": "app-dev-api"}
    # Values never enter the inventory: neither the environment's nor the secret's.
    dumped = json.dumps([r.to_json() for r in inventory.resources], default=str)
    assert SECRET_VALUE not in dumped and "postgres://" not in dumped


async def test_no_prefix_keeps_everything(moto: MotoServer) -> None:
    seed.function(moto.endpoint, "one")
    seed.function(moto.endpoint, "two")
    async with AwsSession(options(moto)) as session:
        inventory = await discover(session, (), ["lambda"])
    assert sorted(r.name for r in inventory.of_kind("function")) == ["one", "two"]


async def test_a_failing_service_is_a_warning_not_a_failure(moto: MotoServer) -> None:
    seed.function(moto.endpoint, "still-listed")
    seed.client(moto.endpoint, "secretsmanager").create_secret(Name="hidden", SecretString="x")
    moto.faults(error=1.0, targets=["secretsmanager."])
    async with AwsSession(options(moto, max_attempts=1)) as session:
        inventory = await discover(session, (), ["lambda", "secretsmanager"])
    assert [r.name for r in inventory.resources] == ["still-listed"]
    assert inventory.failed == {"secretsmanager"}
    assert len(inventory.warnings) == 1 and inventory.warnings[0].startswith("secretsmanager: ")
    assert "InternalFailure" in inventory.warnings[0]


async def test_a_resource_whose_details_fail_is_still_listed(moto: MotoServer) -> None:
    ddb = seed.client(moto.endpoint, "dynamodb")
    for name in ("t-one", "t-two"):
        ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
    moto.faults(error=1.0, targets=["DynamoDB_20120810.DescribeTable"])
    async with AwsSession(options(moto, max_attempts=1)) as session:
        inventory = await discover(session, (), ["dynamodb"])
    assert inventory.warnings == []
    assert sorted(r.name for r in inventory.of_kind("table")) == ["t-one", "t-two"]
    assert all("InternalFailure" in r.attributes["DescribeError"] for r in inventory.resources)


async def test_every_service_failing_is_an_error(moto: MotoServer) -> None:
    moto.faults(error=1.0)
    async with AwsSession(options(moto, max_attempts=1)) as session:
        with pytest.raises(UserError):
            await discover(session, (), ["lambda", "sns"])


CFN_PLAYBOOK = seed.playbook_yaml("deploy-started", "  - pattern: 'User Initiated'\n", service="cloudformation")
BUILD_PLAYBOOK = seed.playbook_yaml("buildspec-missing", (
    "  - pattern: 'YAML_FILE_ERROR Message: stat (?P<path>\\S+): no such file or directory'\n"),
    service="codebuild")


async def test_stack_events_are_records(moto: MotoServer) -> None:
    seed.stack(moto.endpoint, "app-stack")
    matcher = Matcher(seed.catalog_of(CFN_PLAYBOOK))
    async with AwsSession(options(moto)) as session:
        records = await stack_events(session, "app-stack", 0, matcher)
        later = await stack_events(session, "app-stack", records[-1].timestamp + 1, matcher)
    assert records and later == []
    assert all(r.source == "cloudformation" and r.group == "app-stack" for r in records)
    assert len({r.event_id for r in records}) == len(records)
    assert [r.timestamp for r in records] == sorted(r.timestamp for r in records)
    # The ResourceStatusReason is the message; moto's stack event says "User Initiated".
    started = [r for r in records if r.matches]
    assert started and started[0].message == "User Initiated" and started[0].stream == "app-stack"
    assert started[0].matches[0].playbook == "deploy-started"


async def test_failed_build_logs_are_records(moto: MotoServer) -> None:
    line = ("[Container] 2024/05/01 10:15:02.123456 Phase context status code: YAML_FILE_ERROR "
            "Message: stat /codebuild/output/src123/src/buildspec.yml: no such file or directory")
    seed.log_stream(moto.endpoint, "/aws/codebuild/app-build", "1b2c3d", ["[Container] Entering phase INSTALL", line])
    project = Resource("project", "app-build", service="codebuild", log_group="/aws/codebuild/app-build",
                       attributes={"builds": [{"id": "app-build:1b2c3d", "buildStatus": "FAILED"},
                                              {"id": "app-build:ok", "buildStatus": "SUCCEEDED"}]})
    matcher = Matcher(seed.catalog_of(BUILD_PLAYBOOK))
    async with AwsSession(options(moto)) as session:
        records, warnings = await failed_build_logs(session, [project], matcher)
        nothing = await build_log(session, project, {"id": "app-build:never-logged"}, matcher)
    assert warnings == [] and nothing == []
    assert [r.message for r in records] == ["[Container] Entering phase INSTALL", line]
    assert all(r.source == "codebuild" and r.group == "app-build" and r.stream == "app-build:1b2c3d"
               for r in records)
    assert records[1].matches[0].playbook == "buildspec-missing"
    assert records[1].matches[0].captures["path"] == "/codebuild/output/src123/src/buildspec.yml"
