"""Seeding moto with boto3 for the discovery, probe, metric and check tests."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timezone
from typing import Any

import boto3

ROLE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def client(endpoint: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")


def handler_zip() -> bytes:
    """A deployment package built in memory (moto stores it; it never runs it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {'ok': True}\n")
    return buffer.getvalue()


def lambda_role(endpoint: str, name: str = "warroom-test-lambda-role") -> str:
    iam = client(endpoint, "iam")
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=ROLE_POLICY)["Role"]["Arn"]


def function(endpoint: str, name: str, *, timeout: int = 30, memory: int = 512,
             tracing: str = "PassThrough", env: dict[str, str] | None = None,
             log_group: bool = True, layers: list[str] | None = None) -> dict[str, Any]:
    lam = client(endpoint, "lambda")
    kwargs: dict[str, Any] = {}
    if env is not None:
        kwargs["Environment"] = {"Variables": env}
    if layers:
        kwargs["Layers"] = layers
    answer = lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=lambda_role(endpoint), Handler="handler.handler",
        Code={"ZipFile": handler_zip()}, Timeout=timeout, MemorySize=memory,
        TracingConfig={"Mode": tracing}, **kwargs)
    if log_group:
        logs = client(endpoint, "logs")
        try:
            logs.create_log_group(logGroupName=f"/aws/lambda/{name}")
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
    return answer


def log_stream(endpoint: str, group: str, stream: str, messages: list[str]) -> None:
    logs = client(endpoint, "logs")
    try:
        logs.create_log_group(logGroupName=group)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(datetime.now(timezone.utc).timestamp() * 1000)
    if messages:
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
            {"timestamp": now + i, "message": m} for i, m in enumerate(messages)])


def put_metric(endpoint: str, namespace: str, name: str, dimension: str, value: str,
               values: list[float], unit: str = "None") -> None:
    cw = client(endpoint, "cloudwatch")
    now = datetime.now(timezone.utc)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": name, "Dimensions": [{"Name": dimension, "Value": value}],
         "Timestamp": now, "Value": v, "Unit": unit} for v in values])


def stack(endpoint: str, name: str) -> str:
    cfn = client(endpoint, "cloudformation")
    template = {"Resources": {"Queue": {"Type": "AWS::SNS::Topic", "Properties": {}}}}
    return cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))["StackId"]


def playbook_yaml(pid: str, symptoms: str, params: str = "", service: str = "lambda") -> str:
    """A minimal valid playbook around the given `symptoms:` block (YAML, indented 2)."""
    return (f"id: {pid}\ntitle: {pid} title\nservice: {service}\nseverity: high\n"
            f"sources:\n  - {{file: guide.md, section: \"A > B\"}}\n"
            + (f"params:\n{params}" if params else "")
            + f"symptoms:\n{symptoms}cause: Something.\n"
            "fix:\n  - {title: Look, manual: Look at it.}\nprevention: Something else.\n")


def catalog_of(*texts: str) -> Any:
    """A Catalog of playbooks given as YAML text; fails loudly on a playbook problem."""
    from warroom.playbook.catalog import Catalog
    from warroom.playbook.loader import load_text

    catalog = Catalog()
    for i, text in enumerate(texts):
        playbook, problems = load_text(text, f"test-{i}.yaml")
        assert playbook is not None and not problems, problems
        catalog.playbooks[playbook.id] = playbook
    return catalog
