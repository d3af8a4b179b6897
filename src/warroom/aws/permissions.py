"""The read permissions the console uses, and which of them the current identity has.

`warroom doctor` asks IAM's policy simulator where the identity may call it; otherwise it
makes one cheap read per action with a name that cannot exist, since AWS authorizes a call
before it looks the resource up: AccessDenied means denied, a not-found means allowed.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from warroom.aws.session import DENIED_CODES, AwsSession, error_code

PROBE_NAME = "warroom-doctor-probe-does-not-exist"


@dataclass(frozen=True, slots=True)
class Action:
    """One IAM action warroom calls while reading, why, and how to try it cheaply."""

    name: str                                  # IAM action, e.g. logs:FilterLogEvents
    purpose: str
    service: str = ""                          # botocore client name for the cheap read
    operation: str = ""                        # botocore method name; "" = never probed
    params: tuple[tuple[str, Any], ...] = ()


def _a(name: str, purpose: str, service: str = "", operation: str = "", **params: Any) -> Action:
    return Action(name, purpose, service, operation, tuple(params.items()))


# Every read the console, `tail`, `check` and the diagnose steps rely on. A test runs the
# console's sources against the offline account and checks each call made is listed here.
READ_ACTIONS: tuple[Action, ...] = (
    _a("sts:GetCallerIdentity", "who is signed in (status bar, audit)", "sts", "get_caller_identity"),
    _a("logs:DescribeLogGroups", "find the log groups to follow", "logs", "describe_log_groups", limit=1),
    _a("logs:DescribeLogStreams", "notice new log streams", "logs", "describe_log_streams",
       logGroupName=PROBE_NAME, limit=1),
    _a("logs:FilterLogEvents", "backfill and reconcile the live logs", "logs", "filter_log_events",
       logGroupName=PROBE_NAME, limit=1),
    _a("logs:GetLogEvents", "read CodeBuild build logs", "logs", "get_log_events",
       logGroupName=PROBE_NAME, logStreamName=PROBE_NAME, limit=1),
    # Starting a session is billed per minute: never probed, only simulated.
    _a("logs:StartLiveTail", "stream the live logs"),
    _a("logs:StartQuery", "search groups without a Live Tail session (Logs Insights)", "logs",
       "start_query", logGroupNames=[PROBE_NAME], queryString="fields @message | limit 1",
       startTime=0, endTime=1),
    _a("logs:GetQueryResults", "read Logs Insights results", "logs", "get_query_results",
       queryId="00000000-0000-0000-0000-000000000000"),
    _a("lambda:ListFunctions", "list functions", "lambda", "list_functions", MaxItems=1),
    _a("lambda:GetFunctionConfiguration", "diagnose a function", "lambda", "get_function_configuration",
       FunctionName=PROBE_NAME),
    _a("lambda:ListVersionsByFunction", "code versions, for what changed", "lambda",
       "list_versions_by_function", FunctionName=PROBE_NAME),
    _a("apigateway:GET", "list HTTP and WebSocket APIs", "apigatewayv2", "get_apis", MaxResults="1"),
    _a("dynamodb:ListTables", "list tables", "dynamodb", "list_tables", Limit=1),
    _a("dynamodb:DescribeTable", "diagnose a table", "dynamodb", "describe_table", TableName=PROBE_NAME),
    _a("dynamodb:DescribeTimeToLive", "lock items past their TTL", "dynamodb", "describe_time_to_live",
       TableName=PROBE_NAME),
    _a("dynamodb:Scan", "lock items past their TTL", "dynamodb", "scan", TableName=PROBE_NAME, Limit=1),
    _a("codebuild:ListProjects", "list build projects", "codebuild", "list_projects"),
    _a("codebuild:BatchGetProjects", "read build projects", "codebuild", "batch_get_projects",
       names=[PROBE_NAME]),
    _a("codebuild:ListBuildsForProject", "find failed builds", "codebuild", "list_builds_for_project",
       projectName=PROBE_NAME),
    _a("codebuild:BatchGetBuilds", "read failed builds", "codebuild", "batch_get_builds",
       ids=[f"{PROBE_NAME}:0"]),
    _a("cloudformation:ListStacks", "list stacks", "cloudformation", "list_stacks"),
    _a("cloudformation:DescribeStackEvents", "deploy events and rollbacks", "cloudformation",
       "describe_stack_events", StackName=PROBE_NAME),
    _a("cloudformation:ListStackResources", "--stack scope", "cloudformation", "list_stack_resources",
       StackName=PROBE_NAME),
    _a("tag:GetResources", "--tag scope", "resourcegroupstaggingapi", "get_resources", ResourcesPerPage=1),
    _a("sns:ListTopics", "list topics", "sns", "list_topics"),
    _a("sns:ListSubscriptionsByTopic", "subscriptions pending confirmation", "sns",
       "list_subscriptions_by_topic", TopicArn=f"arn:aws:sns:us-east-1:000000000000:{PROBE_NAME}"),
    _a("secretsmanager:ListSecrets", "list secrets (metadata only)", "secretsmanager", "list_secrets",
       MaxResults=1),
    _a("secretsmanager:DescribeSecret", "secret metadata", "secretsmanager", "describe_secret",
       SecretId=PROBE_NAME),
    # The empty/invalid-JSON probes read the value to test it; the value is never shown.
    _a("secretsmanager:GetSecretValue", "tell whether a secret is empty or not JSON", "secretsmanager",
       "get_secret_value", SecretId=PROBE_NAME),
    _a("secretsmanager:ListSecretVersionIds", "secret rotations, for what changed (never values)",
       "secretsmanager", "list_secret_version_ids", SecretId=PROBE_NAME),
    _a("kms:ListKeys", "list keys", "kms", "list_keys", Limit=1),
    _a("kms:DescribeKey", "keys disabled or pending deletion", "kms", "describe_key",
       KeyId=f"alias/{PROBE_NAME}"),
    _a("kms:ListAliases", "name keys by alias", "kms", "list_aliases", Limit=1),
    _a("cloudwatch:DescribeAlarms", "alarms in ALARM or without actions", "cloudwatch", "describe_alarms",
       MaxRecords=1),
    _a("cloudwatch:GetMetricData", "metric thresholds and sparklines", "cloudwatch", "get_metric_data",
       MetricDataQueries=[{"Id": "m", "MetricStat": {
           "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors"}, "Period": 60, "Stat": "Sum"}}],
       StartTime=datetime(2020, 1, 1, tzinfo=timezone.utc),
       EndTime=datetime(2020, 1, 1, 0, 5, tzinfo=timezone.utc)),
    _a("ssm:DescribeParameters", "list parameters (metadata only)", "ssm", "describe_parameters",
       MaxResults=1),
    _a("ssm:GetParameterHistory", "parameter versions, for what changed", "ssm", "get_parameter_history",
       Name=PROBE_NAME, MaxResults=1),
    _a("s3:ListAllMyBuckets", "list buckets", "s3", "list_buckets"),
    _a("cloudtrail:LookupEvents", "what changed before a symptom", "cloudtrail", "lookup_events",
       MaxResults=1),
    _a("iam:ListPolicyVersions", "policy edits, for what changed", "iam", "list_policy_versions",
       PolicyArn=f"arn:aws:iam::000000000000:policy/{PROBE_NAME}"),
    _a("iam:ListPolicies", "customer managed policies, for what changed", "iam", "list_policies",
       Scope="Local", MaxItems=1),
    _a("iam:GetRole", "the role to simulate for an assumed-role session", "iam", "get_role",
       RoleName=PROBE_NAME),
    _a("iam:SimulatePrincipalPolicy", "say before a fix which calls would be denied"),
)

Verdict = str  # "allowed" | "denied" | "unknown"


@dataclass(frozen=True, slots=True)
class Permission:
    action: Action
    verdict: Verdict
    how: str        # "simulated" | "probed" | "not probed" | the error met


async def check(session: AwsSession, actions: tuple[Action, ...] = READ_ACTIONS) -> list[Permission]:
    """The verdict for each action: simulated when IAM lets us, else one cheap read each."""
    identity = await session.identity()
    simulated = await _simulate(session, identity.get("Arn", ""), actions)
    if simulated is not None:
        return simulated
    return list(await asyncio.gather(*(_probe(session, action) for action in actions)))


def principal_arn(caller_arn: str) -> str:
    """The IAM principal to simulate: an assumed-role session's role, else the caller itself."""
    found = re.fullmatch(r"arn:(aws[a-z-]*):sts::(\d+):assumed-role/([^/]+)/.+", caller_arn)
    if found:
        partition, account, role = found.groups()
        return f"arn:{partition}:iam::{account}:role/{role}"
    return caller_arn


async def _simulate(session: AwsSession, caller_arn: str,
                    actions: tuple[Action, ...]) -> list[Permission] | None:
    if not caller_arn:
        return None
    try:
        iam = await session.client("iam")
        arn = principal_arn(caller_arn)
        if ":role/" in arn:  # the simulator wants the role's ARN with its path
            role = await iam.get_role(RoleName=arn.rsplit("/", 1)[1])
            arn = role["Role"]["Arn"]
        decisions: dict[str, str] = {}
        paginator = iam.get_paginator("simulate_principal_policy")
        async for page in paginator.paginate(PolicySourceArn=arn, ActionNames=[a.name for a in actions]):
            for result in page.get("EvaluationResults", []):
                decisions[result["EvalActionName"]] = result["EvalDecision"]
    except Exception:  # noqa: BLE001 - no simulator for this identity: probe instead
        return None
    return [Permission(a, "allowed" if decisions.get(a.name) == "allowed" else
                       "denied" if a.name in decisions else "unknown", "simulated") for a in actions]


async def _probe(session: AwsSession, action: Action) -> Permission:
    if not action.operation:
        return Permission(action, "unknown", "not probed")
    try:
        client = await session.client(action.service)
        await getattr(client, action.operation)(**dict(action.params))
    except Exception as exc:  # noqa: BLE001 - the error is the answer
        code = error_code(exc)
        if code in DENIED_CODES:
            return Permission(action, "denied", "probed")
        if code is None:
            return Permission(action, "unknown", type(exc).__name__)
        return Permission(action, "allowed", "probed")  # authorized, then not found or invalid
    return Permission(action, "allowed", "probed")


def policy_document(actions: tuple[Action, ...] = READ_ACTIONS) -> dict[str, Any]:
    """An IAM policy granting exactly the reads warroom uses, for a team's on-call role."""
    return {"Version": "2012-10-17",
            "Statement": [{"Sid": "WarroomRead", "Effect": "Allow",
                           "Action": sorted({a.name for a in actions}), "Resource": "*"}]}


# botocore signing names that IAM spells differently.
_IAM_PREFIX = {"monitoring": "cloudwatch", "email": "ses", "tagging": "tag", "streams.dynamodb": "dynamodb"}


def iam_action(call: str) -> str:
    """The IAM action of `service.operation` from botocore's model, e.g.
    `lambda.update_function_configuration` -> `lambda:UpdateFunctionConfiguration`; '' if unknown."""
    from warroom.aws.service_model import operation_model

    service, _, operation = call.partition(".")
    model = operation_model(service, operation)
    if model is None:
        return ""
    meta = model.service_model.metadata
    prefix = str(meta.get("signingName") or meta.get("endpointPrefix") or service)
    if prefix == "apigateway":  # API Gateway authorizes by HTTP method on the resource path
        return f"apigateway:{model.http.get('method', 'GET')}"
    return f"{_IAM_PREFIX.get(prefix, prefix)}:{model.name}"


async def check_calls(session: AwsSession, calls: Sequence[tuple[str, Mapping[str, Any] | None]],
                      purpose: str = "") -> list[Permission]:
    """Whether the identity may make each call (`service.operation`, its parameters or None).

    Simulated where IAM lets us; otherwise a read-only call with known parameters is tried
    once as it is (AWS authorizes before it looks anything up), and anything that would
    change something is never tried: its verdict stays "unknown".
    """
    from warroom.playbook.model import is_read_only_operation

    actions: dict[str, Action] = {}
    for call, params in calls:
        name = iam_action(call)
        if not name or name in actions:
            continue
        service, _, operation = call.partition(".")
        probe = params is not None and is_read_only_operation(operation)
        actions[name] = Action(name, purpose or call, service, operation if probe else "",
                               tuple((params or {}).items()))
    return await check(session, tuple(actions.values())) if actions else []
