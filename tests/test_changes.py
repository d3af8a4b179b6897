"""`warroom changes` and `warroom report` against moto's server: who changed what, from what to what."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from warroom.cli import main
from warroom.demo.server import MotoServer
from warroom.incident.audit import AuditLog
from warroom.incident.records import Finding

SECRET_A = "ghp_firstSecretValueThatMustNotLeak01"
SECRET_B = "ghp_secondSecretValueThatMustNotLeak2"


def client(endpoint: str, service: str, key: dict[str, str] | None = None) -> Any:
    extra = ({"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
             if key else {})
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", **extra)


def deployer(endpoint: str) -> dict[str, str]:
    iam = client(endpoint, "iam")
    iam.create_user(UserName="deployer")
    return iam.create_access_key(UserName="deployer")["AccessKey"]


def function(endpoint: str, name: str = "fn-a", timeout: int = 60) -> str:
    role = client(endpoint, "iam").create_role(
        RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    client(endpoint, "lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="handler.handler",
        Code={"ZipFile": code.getvalue()}, Timeout=timeout, MemorySize=256)
    return role


def changes(endpoint: str, capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    assert main(["--endpoint-url", endpoint, "changes", "--json", *args]) == 0
    captured = capsys.readouterr()
    assert SECRET_A not in captured.out + captured.err and SECRET_B not in captured.out + captured.err
    return [json.loads(line) for line in captured.out.splitlines()]


def one(found: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    hits = [c for c in found if all(c.get(k) == v for k, v in fields.items())]
    assert len(hits) == 1, (fields, found)
    return hits[0]


def test_a_configuration_change_with_its_actor_time_before_and_after(
        moto: MotoServer, capsys: pytest.CaptureFixture[str]) -> None:
    function(moto.endpoint)
    key = deployer(moto.endpoint)
    before = time.time()
    client(moto.endpoint, "lambda", key).update_function_configuration(
        FunctionName="fn-a", Timeout=30, MemorySize=256)
    found = changes(moto.endpoint, capsys, "--since", "10m")
    change = one(found, event="UpdateFunctionConfiguration", resource="fn-a")
    assert change["source"] == "cloudtrail" and change["actor"] == "deployer"
    assert change["before"] == {"Timeout": 60, "MemorySize": 256}
    assert change["after"] == {"Timeout": 30, "MemorySize": 256}
    assert change["summary"] == "Timeout 60 -> 30"
    stamp = time.mktime(time.strptime(change["time"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert before - 2 <= stamp <= time.time() + 1
    assert set(change) == {"time", "source", "event", "resource", "resource_type", "actor", "summary",
                           "before", "after", "region"} and change["region"] == "us-east-1"
    # With the creation outside the window, the old value is learned from the older history.
    trail = client(moto.endpoint, "cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "ResourceName", "AttributeValue": "fn-a"}])["Events"]
    update, create = (next(e["EventTime"] for e in trail if e["EventName"] == n)
                      for n in ("UpdateFunctionConfiguration", "CreateFunction"))
    between = (create + (update - create) / 2).isoformat()
    found = changes(moto.endpoint, capsys, "--since", between)
    assert [c["event"] for c in found if c["resource"] == "fn-a"] == ["UpdateFunctionConfiguration"]
    assert found[-1]["before"] == {"Timeout": 60, "MemorySize": 256}


def test_secrets_show_versions_never_values(moto: MotoServer, capsys: pytest.CaptureFixture[str]) -> None:
    key = deployer(moto.endpoint)
    sm = client(moto.endpoint, "secretsmanager")
    sm.create_secret(Name="gh-token", SecretString=SECRET_A)
    client(moto.endpoint, "secretsmanager", key).put_secret_value(SecretId="gh-token", SecretString=SECRET_B)
    client(moto.endpoint, "ssm").put_parameter(Name="/app/db-password", Type="SecureString", Value=SECRET_A)
    client(moto.endpoint, "ssm").put_parameter(Name="/app/db-password", Type="SecureString", Value=SECRET_B,
                                                Overwrite=True)
    found = changes(moto.endpoint, capsys, "--since", "10m")
    put = one(found, event="PutSecretValue", resource="gh-token")
    versions = {v["VersionId"]: v["VersionStages"] for v in sm.list_secret_version_ids(SecretId="gh-token")["Versions"]}
    assert put["actor"] == "deployer"
    assert versions[put["after"]["AWSCURRENT"]] == ["AWSCURRENT"]
    assert versions[put["before"]["AWSCURRENT"]] == ["AWSPREVIOUS"]
    assert "value not shown" in put["summary"]
    parameter = [c for c in found if c["resource"] == "/app/db-password"]
    assert len(parameter) == 2
    assert all("Value" not in (c["before"] or {}) and "Value" not in (c["after"] or {}) for c in parameter)
    assert main(["--endpoint-url", moto.endpoint, "changes", "--resource", "gh-token"]) == 0
    text = capsys.readouterr().out
    assert "PutSecretValue gh-token by deployer" in text and SECRET_B not in text
    scoped = changes(moto.endpoint, capsys, "--resource", "/app/db-password")
    assert {c["resource"] for c in scoped} == {"/app/db-password"} and len(scoped) == 2


def test_a_policy_statement_removed_and_a_stack_update(moto: MotoServer,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    key = deployer(moto.endpoint)
    role = function(moto.endpoint)
    document = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem"], "Resource": "*"}]}
    client(moto.endpoint, "iam").put_role_policy(RoleName="fn-a-role", PolicyName="data",
                                                 PolicyDocument=json.dumps(document))
    document["Statement"][0]["Action"] = ["dynamodb:GetItem"]
    client(moto.endpoint, "iam", key).put_role_policy(RoleName="fn-a-role", PolicyName="data",
                                                      PolicyDocument=json.dumps(document))
    template = {"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}
    cfn = client(moto.endpoint, "cloudformation", key)
    cfn.create_stack(StackName="app", TemplateBody=json.dumps(template))
    template["Resources"]["Other"] = {"Type": "AWS::CloudFormation::WaitConditionHandle"}
    cfn.update_stack(StackName="app", TemplateBody=json.dumps(template))
    # Scoped to the function: its role counts as a dependency.
    found = changes(moto.endpoint, capsys, "--since", "10m", "--resource", "fn-a")
    policy = [c for c in found if c["event"] == "PutRolePolicy" and c["actor"] == "deployer"]
    assert len(policy) == 1 and policy[0]["resource"] == role.rsplit("/", 1)[1]
    assert policy[0]["summary"] == "removed dynamodb:PutItem"
    assert policy[0]["before"]["Allowed"] == ["dynamodb:GetItem", "dynamodb:PutItem"]
    assert policy[0]["after"]["Allowed"] == ["dynamodb:GetItem"]
    assert not any(c["resource"] == "app" for c in found)
    found = changes(moto.endpoint, capsys, "--since", "10m")
    assert one(found, event="UpdateStack", resource="app")["actor"] == "deployer"
    assert any(c["source"] == "cloudformation" and c["resource"] == "app" and c["event"].startswith("UPDATE")
               for c in found)


def test_paging_and_throttling_are_handled(moto: MotoServer, capsys: pytest.CaptureFixture[str]) -> None:
    ssm = client(moto.endpoint, "ssm")
    for i in range(60):  # more than one LookupEvents page (50)
        ssm.put_parameter(Name=f"/p/{i:02d}", Type="String", Value=str(i))
    moto.faults(throttle=0.4, targets=["LookupEvents"], seed=3)
    found = changes(moto.endpoint, capsys, "--since", "10m")
    trail = [c for c in found if c["source"] == "cloudtrail" and c["event"] == "PutParameter"]
    assert sorted(c["resource"] for c in trail) == [f"/p/{i:02d}" for i in range(60)]
    assert moto.faults()["counts"].get("throttled", 0) > 0


def test_report_puts_the_changes_before_the_first_symptom(moto: MotoServer, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    function(moto.endpoint)
    function(moto.endpoint, "fn-unrelated")
    client(moto.endpoint, "lambda", deployer(moto.endpoint)).update_function_configuration(
        FunctionName="fn-a", Timeout=3)
    path = tmp_path / "audit.jsonl"
    AuditLog(path).finding(Finding("lambda-timeout", "fn-a", "function", "Task timed out after 3.00 seconds",
                                   int(time.time() * 1000) + 1000, "log"))
    assert main(["--endpoint-url", moto.endpoint, "report", "--audit-log", str(path)]) == 0
    out = capsys.readouterr().out
    assert "## Changes before the first symptom" in out
    row = next(line for line in out.splitlines() if "UpdateFunctionConfiguration" in line and line.startswith("|"))
    assert "| fn-a | deployer | Timeout 60 -\\> 3 |" in row
    assert "fn-unrelated" not in out  # only the findings' resources and what they depend on
    assert "fn-a-role" in out  # its role, created with it
    timeline = out.split("## Timeline", 1)[1]
    assert timeline.index("UpdateFunctionConfiguration") < timeline.index("finding **lambda-timeout**")
