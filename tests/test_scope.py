"""Scope by CloudFormation stack (nested stacks too) and by tag, against moto's server."""

from __future__ import annotations

import json

import pytest

from tests import awsseed as seed
from tests.test_check_cli import assert_one_line_error, warroom
from warroom.aws.discovery import discover
from warroom.aws.scope import Scope, parse_tag
from warroom.aws.session import AwsOptions, AwsSession
from warroom.demo.server import MotoServer
from warroom.errors import UserError


def _template(resources: dict[str, object]) -> str:
    return json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})


def _table(name: str) -> dict[str, object]:
    return {"Type": "AWS::DynamoDB::Table", "Properties": {
        "TableName": name, "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}]}}


def seed_stacks(endpoint: str) -> None:
    s3 = seed.client(endpoint, "s3")
    s3.create_bucket(Bucket="templates")
    s3.put_object(Bucket="templates", Key="inner.json", Body=_template({
        "InnerTopic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "team-named-alerts"}}}))
    seed.client(endpoint, "cloudformation").create_stack(StackName="payments", TemplateBody=_template({
        "LocksTable": _table("orders-lock-store"),
        "AppLogs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/app/payments"}},
        "Inner": {"Type": "AWS::CloudFormation::Stack", "Properties": {
            "TemplateURL": "https://templates.s3.amazonaws.com/inner.json"}},
    }))
    # Outside the stack: listed only by tag or not at all.
    dynamodb = seed.client(endpoint, "dynamodb")
    for name in ("unrelated-table", "tagged-table"):
        dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
    arn = dynamodb.describe_table(TableName="tagged-table")["Table"]["TableArn"]
    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "app", "Value": "payments"}])
    seed.function(endpoint, "tagged-fn")
    fn_arn = seed.client(endpoint, "lambda").get_function(FunctionName="tagged-fn")["Configuration"]["FunctionArn"]
    seed.client(endpoint, "lambda").tag_resource(Resource=fn_arn, Tags={"app": "payments"})
    seed.log_stream(endpoint, "/aws/lambda/tagged-fn", "s", ["START RequestId: 1"])
    seed.log_stream(endpoint, "/aws/lambda/other-fn", "s", ["START RequestId: 1"])


async def _names(moto: MotoServer, scope: Scope) -> dict[str, dict[str, object]]:
    async with AwsSession(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1")) as session:
        inventory = await discover(session, scope=scope)
    return {f"{r.kind}:{r.name}": r.attributes for r in inventory.resources}


async def test_a_stack_scope_holds_its_resources_and_nested_stacks(moto: MotoServer) -> None:
    seed_stacks(moto.endpoint)
    found = await _names(moto, Scope(stacks=("payments",)))
    assert "table:orders-lock-store" in found and "table:unrelated-table" not in found
    assert found["table:orders-lock-store"]["LogicalId"] == "LocksTable"
    assert found["log_group:/app/payments"]["LogicalId"] == "AppLogs"
    assert "topic:team-named-alerts" in found  # from the nested stack
    assert "stack:payments" in found
    assert not any(k.startswith("function:") for k in found)


async def test_a_tag_scope_holds_tagged_resources_and_their_log_groups(moto: MotoServer) -> None:
    seed_stacks(moto.endpoint)
    found = await _names(moto, Scope(tags=(("app", "payments"),)))
    assert {"table:tagged-table", "function:tagged-fn", "log_group:/aws/lambda/tagged-fn"} <= set(found)
    assert "table:orders-lock-store" not in found and "log_group:/aws/lambda/other-fn" not in found


async def test_criteria_add_up_and_a_missing_stack_is_a_warning(moto: MotoServer) -> None:
    seed_stacks(moto.endpoint)
    scope = Scope(prefixes=("unrelated",), stacks=("payments", "no-such-stack"))
    async with AwsSession(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1")) as session:
        inventory = await discover(session, scope=scope)
    names = {r.name for r in inventory.resources}
    assert {"unrelated-table", "orders-lock-store"} <= names
    assert any(w.startswith("stack no-such-stack:") for w in inventory.warnings)


def test_tag_syntax() -> None:
    assert parse_tag("app=buildingos") == ("app", "buildingos")
    with pytest.raises(UserError, match="KEY=VALUE"):
        parse_tag("app")


def test_check_takes_stack_and_tag(moto: MotoServer) -> None:
    seed_stacks(moto.endpoint)
    result = warroom("check", "--stack", "payments", env={"AWS_ENDPOINT_URL": moto.endpoint})
    assert result.returncode in (0, 1), result.stderr
    assert "resource" in result.stdout
    assert_one_line_error(warroom("check", "--tag", "novalue", env={"AWS_ENDPOINT_URL": moto.endpoint}),
                          "--tag", "KEY=VALUE")


async def test_the_console_follows_only_the_scope_log_groups(moto: MotoServer) -> None:
    from warroom.tui.sources import scope_log_groups

    seed_stacks(moto.endpoint)
    async with AwsSession(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1")) as session:
        by_stack = await scope_log_groups(session, Scope(stacks=("payments",)))
        by_tag = await scope_log_groups(session, Scope(tags=(("app", "payments"),)))
    assert by_stack == ("/app/payments",)
    assert "/aws/lambda/tagged-fn" in by_tag and "/aws/lambda/other-fn" not in by_tag
