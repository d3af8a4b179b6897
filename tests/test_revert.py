"""Suspects for a finding, and reverts run through the Runner: confirmed, verified, read back with boto3."""

from __future__ import annotations

import asyncio
import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

from tests.runner_support import ScriptedUser, session
from tests.test_changes import client, deployer
from warroom.aws import changes as sources
from warroom.demo.server import MotoServer
from warroom.incident.audit import AuditLog
from warroom.incident.changes import Change
from warroom.runner import Runner, revert

OLD_SECRET = "ghp_oldValueThatMustNeverBeShown00001"
NEW_SECRET = "ghp_newValueThatMustNeverBeShown00002"


def function(endpoint: str, name: str, env: dict[str, str] | None = None, timeout: int = 60) -> None:
    role = client(endpoint, "iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    client(endpoint, "lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role["Role"]["Arn"], Handler="handler.handler",
        Code={"ZipFile": code.getvalue()}, Timeout=timeout, Environment={"Variables": env or {}})


def timeline(endpoint: str, *resources: str) -> list[Change]:
    async def collect() -> list[Change]:
        async with session(endpoint) as s:
            return (await sources.collect(s, time.time() - 600, time.time() + 1, list(resources))).changes
    return asyncio.run(collect())


def the(found: list[Change], event: str, resource: str) -> Change:
    hits = [c for c in found if c.event == event and c.resource == resource]
    assert len(hits) == 1, (event, resource, found)
    return hits[0]


def run(endpoint: str, change: Change, audit: Path) -> tuple[Any, ScriptedUser]:
    planned = revert.plan(change)
    assert planned is not None, change
    user = ScriptedUser(confirms=[True])

    async def go() -> Any:
        async with session(endpoint) as s:
            runner = Runner(planned.playbook, user, s, values=planned.values, audit=AuditLog(audit),
                            poll_interval=0.05)
            return await runner.run()
    return asyncio.run(go()), user


def done(result: Any) -> None:
    [step] = result.fix
    assert step.status == "done", step


def test_suspects_rank_the_resource_then_its_dependencies(moto: MotoServer) -> None:
    key = deployer(moto.endpoint)
    client(moto.endpoint, "secretsmanager").create_secret(Name="fn-a-token", SecretString=OLD_SECRET)
    function(moto.endpoint, "fn-a", env={"TOKEN_SECRET": "fn-a-token", "MODE": "fast"})
    function(moto.endpoint, "fn-other")
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    as_deployer = lambda service: client(moto.endpoint, service, key)  # noqa: E731
    as_deployer("lambda").update_function_configuration(FunctionName="fn-a", Timeout=30)
    as_deployer("iam").put_role_policy(RoleName="fn-a-role", PolicyName="p", PolicyDocument=json.dumps(document))
    as_deployer("secretsmanager").put_secret_value(SecretId="fn-a-token", SecretString=NEW_SECRET)
    as_deployer("lambda").update_function_configuration(FunctionName="fn-other", Timeout=5)
    first_seen = time.time() + 1

    async def find() -> list[Any]:
        async with session(moto.endpoint) as s:
            return await sources.suspects(s, "fn-a", first_seen)
    found = asyncio.run(find())
    assert (found[0].change.event, found[0].relation) == ("UpdateFunctionConfiguration", "same resource")
    direct = [s for s in found if s.direct]
    related = [s for s in found if not s.direct]
    assert found == direct + related
    assert [s.lead_s for s in direct] == sorted(s.lead_s for s in direct)
    assert {s.relation for s in related} >= {"its secret", "its role"}
    assert not any(s.change.resource == "fn-other" for s in found)
    text = found[0].describe()
    assert "UpdateFunctionConfiguration by deployer: Timeout 60 -> 30" in text and "before the first symptom" in text
    assert OLD_SECRET not in repr(found) and NEW_SECRET not in repr(found)


def test_revert_lambda_configuration(moto: MotoServer, tmp_path: Path) -> None:
    function(moto.endpoint, "fn-a")
    client(moto.endpoint, "lambda", deployer(moto.endpoint)).update_function_configuration(
        FunctionName="fn-a", Timeout=30, MemorySize=512)
    change = the(timeline(moto.endpoint, "fn-a"), "UpdateFunctionConfiguration", "fn-a")
    result, user = run(moto.endpoint, change, tmp_path / "audit.jsonl")
    done(result)
    [plan] = user.plans
    assert plan.params == {"FunctionName": "fn-a", "Timeout": 60, "MemorySize": 128}
    assert "Timeout 30 -> 60" in plan.title
    config = client(moto.endpoint, "lambda").get_function_configuration(FunctionName="fn-a")
    assert (config["Timeout"], config["MemorySize"]) == (60, 128)
    verify = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()
              if '"verify"' in line]
    assert verify and verify[-1]["status"] == "ok"
    # The revert itself is a change in the timeline now.
    reverted = [c for c in timeline(moto.endpoint, "fn-a") if c.event == "UpdateFunctionConfiguration"]
    assert reverted[-1].after == {"Timeout": 60, "MemorySize": 128}


def test_revert_alias(moto: MotoServer, tmp_path: Path) -> None:
    function(moto.endpoint, "fn-a")
    lam = client(moto.endpoint, "lambda")
    one = lam.publish_version(FunctionName="fn-a")["Version"]
    lam.update_function_configuration(FunctionName="fn-a", Timeout=10)
    two = lam.publish_version(FunctionName="fn-a")["Version"]
    lam.create_alias(FunctionName="fn-a", Name="live", FunctionVersion=one)
    lam.update_alias(FunctionName="fn-a", Name="live", FunctionVersion=two)
    change = the(timeline(moto.endpoint, "fn-a"), "UpdateAlias", "fn-a")
    assert change.before == {"Name": "live", "FunctionVersion": one}
    result, user = run(moto.endpoint, change, tmp_path / "audit.jsonl")
    done(result)
    assert lam.get_alias(FunctionName="fn-a", Name="live")["FunctionVersion"] == one


def test_revert_secret_to_its_previous_version_without_showing_values(moto: MotoServer, tmp_path: Path) -> None:
    sm = client(moto.endpoint, "secretsmanager")
    sm.create_secret(Name="tok", SecretString=OLD_SECRET)
    sm.put_secret_value(SecretId="tok", SecretString=NEW_SECRET)
    change = the(timeline(moto.endpoint, "tok"), "PutSecretValue", "tok")
    audit = tmp_path / "audit.jsonl"
    result, user = run(moto.endpoint, change, audit)
    done(result)
    assert sm.get_secret_value(SecretId="tok")["SecretString"] == OLD_SECRET
    seen = user.transcript() + audit.read_text() + repr(change)
    assert OLD_SECRET not in seen and NEW_SECRET not in seen


def test_revert_parameter_and_policy_version(moto: MotoServer, tmp_path: Path) -> None:
    ssm = client(moto.endpoint, "ssm")
    ssm.put_parameter(Name="/app/config", Type="String", Value='{"column": "Ready"}')
    ssm.put_parameter(Name="/app/config", Type="String", Value='{"column": "Done"}', Overwrite=True)
    iam = client(moto.endpoint, "iam")
    doc = lambda action: json.dumps({"Version": "2012-10-17", "Statement": [  # noqa: E731
        {"Effect": "Allow", "Action": action, "Resource": "*"}]})
    arn = iam.create_policy(PolicyName="app-policy", PolicyDocument=doc("s3:GetObject"))["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc("s3:*"), SetAsDefault=True)
    found = timeline(moto.endpoint, "/app/config", "app-policy")
    parameter = [c for c in found if c.resource == "/app/config" and (c.before or {}).get("Value")]
    assert len(parameter) == 1 and parameter[0].before["Value"] == '{"column": "Ready"}'
    done(run(moto.endpoint, parameter[0], tmp_path / "a.jsonl")[0])
    assert ssm.get_parameter(Name="/app/config")["Parameter"]["Value"] == '{"column": "Ready"}'
    policy = [c for c in found if c.resource == "app-policy" and c.before]
    assert len(policy) == 1 and policy[0].before["DefaultVersionId"] == "v1"
    done(run(moto.endpoint, policy[0], tmp_path / "b.jsonl")[0])
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"


def test_no_revert_without_a_known_old_state() -> None:
    assert revert.plan(Change(0, "cloudtrail", "UpdateFunctionConfiguration", "fn", "function")) is None
    assert revert.plan(Change(0, "cloudtrail", "PutSecretValue", "s", "secret",
                              before={"AWSCURRENT": "a\"b"}, after={"AWSCURRENT": "c"})) is None
    assert revert.plan(Change(0, "ssm", "PutParameter", "/p", "parameter",
                              before={"Version": 1, "Type": "SecureString"})) is None
