"""The offline account's CloudTrail: mutating calls recorded, LookupEvents answered as AWS does."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from warroom.demo import world as w
from warroom.demo.server import MotoServer

SECRET = "hunter2-very-secret-value"


def boto(endpoint: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")


def seed_function(endpoint: str, name: str, timeout: int) -> None:
    import io
    import zipfile

    role = boto(endpoint, "iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    boto(endpoint, "lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role["Role"]["Arn"], Handler="handler.handler",
        Code={"ZipFile": code.getvalue()}, Timeout=timeout)


def trail(endpoint: str, attempts: int = 10) -> Any:
    """A CloudTrail client that retries throttles (the quota is 2 requests/s)."""
    config = botocore.config.Config(retries={"mode": "standard", "max_attempts": attempts})
    return boto3.client("cloudtrail", endpoint_url=endpoint, region_name="us-east-1", config=config)


def lookup(endpoint: str, **kwargs: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for page in trail(endpoint).get_paginator("lookup_events").paginate(**kwargs):
        events += page["Events"]
    return events


def user_key(endpoint: str, user: str) -> dict[str, str]:
    iam = boto(endpoint, "iam")
    iam.create_user(UserName=user)
    return iam.create_access_key(UserName=user)["AccessKey"]


def as_user(endpoint: str, key: dict[str, str], service: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])


def test_mutating_calls_are_recorded_with_caller_and_secrets_hidden(moto: MotoServer) -> None:
    seed_function(moto.endpoint, "fn-a", timeout=60)
    key = user_key(moto.endpoint, "deployer")
    before = time.time()
    as_user(moto.endpoint, key, "lambda").update_function_configuration(
        FunctionName="fn-a", Timeout=30, Environment={"Variables": {"API_KEY": SECRET}})
    boto(moto.endpoint, "lambda").get_function_configuration(FunctionName="fn-a")  # read: not recorded
    sm = boto(moto.endpoint, "secretsmanager")
    sm.create_secret(Name="tok", SecretString=SECRET)
    sm.put_secret_value(SecretId="tok", SecretString=SECRET + "-2")
    boto(moto.endpoint, "ssm").put_parameter(Name="/app/pw", Type="SecureString", Value=SECRET)
    boto(moto.endpoint, "iam").create_login_profile(UserName="deployer", Password=SECRET)
    with pytest.raises(ClientError):  # failed calls change nothing and are not recorded
        boto(moto.endpoint, "lambda").update_function_configuration(FunctionName="missing", Timeout=5)

    events = lookup(moto.endpoint)
    names = [e["EventName"] for e in events]
    assert "GetFunctionConfiguration" not in names
    assert names[:5] == ["CreateLoginProfile", "PutParameter", "PutSecretValue", "CreateSecret",
                         "UpdateFunctionConfiguration"]
    update = events[4]
    assert update["Username"] == "deployer"
    assert update["AccessKeyId"] == key["AccessKeyId"]
    assert update["EventSource"] == "lambda.amazonaws.com"
    assert update["Resources"] == [{"ResourceType": "AWS::Lambda::Function", "ResourceName": "fn-a"}]
    assert before - 1 <= update["EventTime"].timestamp() <= time.time() + 1
    record = json.loads(update["CloudTrailEvent"])
    assert record["userIdentity"]["type"] == "IAMUser"
    assert record["userIdentity"]["arn"].endswith(":user/deployer")
    assert record["requestParameters"]["functionName"] == "fn-a"
    assert record["requestParameters"]["timeout"] == 30
    assert record["readOnly"] is False and record["eventName"] == "UpdateFunctionConfiguration"
    assert events[5]["Username"] == "root"  # the dummy key belongs to no IAM user
    everything = json.dumps([{**e, "EventTime": str(e["EventTime"])} for e in events])
    assert SECRET not in everything
    assert all("HIDDEN_DUE_TO_SECURITY_REASONS" in e["CloudTrailEvent"] for e in events[:3])


def test_lookup_attributes_time_range_and_paging(moto: MotoServer) -> None:
    ssm = boto(moto.endpoint, "ssm")
    for i in range(5):
        ssm.put_parameter(Name=f"/p/{i}", Type="String", Value=str(i))
    boto(moto.endpoint, "iam").create_role(RoleName="r1", AssumeRolePolicyDocument="{}")
    pages = []
    token = None
    client = trail(moto.endpoint)
    while True:
        page = client.lookup_events(MaxResults=2, LookupAttributes=[
            {"AttributeKey": "ResourceType", "AttributeValue": "AWS::SSM::Parameter"}],
            **({"NextToken": token} if token else {}))
        pages.append([e["Resources"][0]["ResourceName"] for e in page["Events"]])
        token = page.get("NextToken")
        if not token:
            break
    assert pages == [["/p/4", "/p/3"], ["/p/2", "/p/1"], ["/p/0"]]
    assert [e["EventName"] for e in lookup(moto.endpoint, LookupAttributes=[
        {"AttributeKey": "EventSource", "AttributeValue": "iam.amazonaws.com"}])] == ["CreateRole"]
    assert lookup(moto.endpoint, StartTime=time.time() + 60) == []
    assert len(lookup(moto.endpoint, StartTime=time.time() - 600, EndTime=time.time() + 1)) == 6
    with pytest.raises(ClientError) as bad:
        client.lookup_events(LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": "A"},
            {"AttributeKey": "Username", "AttributeValue": "B"}])
    assert bad.value.response["Error"]["Code"] == "InvalidLookupAttributesException"
    with pytest.raises(ClientError) as bad:
        client.lookup_events(NextToken="bm90LWEtdG9rZW4=")
    assert bad.value.response["Error"]["Code"] == "InvalidNextTokenException"


def test_lookup_is_throttled_above_two_requests_per_second(moto: MotoServer) -> None:
    """Ten lookups at the same moment: the quota admits its burst, the rest are throttled
    (sent together, so a slow machine spreading them out cannot refill the quota)."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    clients = [trail(moto.endpoint, attempts=1) for _ in range(10)]
    start = Barrier(len(clients))

    def one(client: object) -> str:
        start.wait()
        try:
            client.lookup_events(MaxResults=1)  # type: ignore[attr-defined]
            return "ok"
        except ClientError as exc:
            return str(exc.response["Error"]["Code"])

    with ThreadPoolExecutor(len(clients)) as pool:
        codes = list(pool.map(one, clients))
    assert "ThrottlingException" in codes
    assert set(codes) == {"ok", "ThrottlingException"}


def test_reset_forgets_the_trail(moto: MotoServer) -> None:
    boto(moto.endpoint, "iam").create_role(RoleName="r2", AssumeRolePolicyDocument="{}")
    assert lookup(moto.endpoint)
    moto.reset()
    assert lookup(moto.endpoint) == []


def test_the_demo_world_breaks_itself_through_recorded_calls(moto: MotoServer) -> None:
    w.seed(moto.endpoint)
    events = lookup(moto.endpoint, StartTime=time.time() - 600)
    by = {(e["EventName"], e["Resources"][0]["ResourceName"]): e  # the newest wins
          for e in reversed(events) if e["Resources"]}
    deploy = by[("UpdateFunctionConfiguration", w.AGENT_PERSONA)]
    assert deploy["Username"] == w.DEPLOYER_USER
    assert json.loads(deploy["CloudTrailEvent"])["requestParameters"]["timeout"] == 30
    assert by[("PutRolePolicy", w.BOS_ROLE)]["Username"] == w.DEPLOYER_USER
    rotation = by[("PutSecretValue", w.GITHUB_TOKEN)]
    assert rotation["Username"] == w.ROTATION_SESSION
    assert json.loads(rotation["CloudTrailEvent"])["userIdentity"]["type"] == "AssumedRole"
    create = by[("CreateFunction", w.AGENT_PERSONA)]
    assert create["EventTime"] <= deploy["EventTime"]
    assert w.GOOD_GITHUB_TOKEN not in json.dumps([e["CloudTrailEvent"] for e in events])
    lam = boto(moto.endpoint, "lambda")
    assert lam.get_function_configuration(FunctionName=w.AGENT_PERSONA)["Timeout"] == 30
