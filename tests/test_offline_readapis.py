"""The offline account answers the read APIs the diagnose steps call, as AWS documents them.

Against moto's server in a child process (`warroom.demo.readapis` inside it), through real
boto3 and aiobotocore clients that do not retry, so a 500 from plain moto fails at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import pytest

from tests.awsseed import function
from warroom.aws.session import AwsOptions, AwsSession
from warroom.demo.server import MotoServer

ACCOUNT = "123456789012"
NO_RETRY = botocore.config.Config(retries={"max_attempts": 1})


def _client(moto: MotoServer, service: str) -> Any:
    return boto3.client(service, endpoint_url=moto.endpoint, region_name="us-east-1", config=NO_RETRY)


def _error(raised: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> tuple[str, int]:
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def _alarm(cw: Any, name: str, actions: list[str], **extra: Any) -> None:
    cw.put_metric_alarm(AlarmName=name, Namespace="Demo", MetricName="Errors", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
                        AlarmActions=actions, **extra)


# --- CloudWatch DescribeAlarmHistory ---------------------------------------------------------


def test_alarm_history_records_creation_state_changes_and_actions(moto: MotoServer) -> None:
    cw, sns = _client(moto, "cloudwatch"), _client(moto, "sns")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    missing = f"arn:aws:sns:us-east-1:{ACCOUNT}:deleted-topic"
    _alarm(cw, "build-failures", [topic, missing])
    cw.set_alarm_state(AlarmName="build-failures", StateValue="ALARM", StateReason="threshold crossed",
                       StateReasonData=json.dumps({"recentDatapoints": [3.0]}))

    items = cw.describe_alarm_history(AlarmName="build-failures")["AlarmHistoryItems"]
    assert [i["HistoryItemType"] for i in items] == ["Action", "Action", "StateUpdate", "ConfigurationUpdate"]
    assert items[-1]["HistorySummary"] == 'Alarm "build-failures" created'
    state = items[2]
    assert state["HistorySummary"] == "Alarm updated from OK to ALARM"
    data = json.loads(state["HistoryData"])
    assert data["oldState"]["stateValue"] == "OK"
    assert data["newState"] == {"stateValue": "ALARM", "stateReason": "threshold crossed",
                                "stateReasonData": {"recentDatapoints": [3.0]}}

    actions = cw.describe_alarm_history(AlarmName="build-failures", HistoryItemType="Action",
                                        MaxRecords=10)["AlarmHistoryItems"]
    outcomes = {json.loads(i["HistoryData"])["notificationResource"]: i["HistorySummary"] for i in actions}
    assert outcomes[topic] == f"Successfully executed action {topic}"
    assert outcomes[missing].startswith(f"Failed to execute action {missing}")
    assert {i["AlarmType"] for i in items} == {"MetricAlarm"}


def test_alarm_history_has_no_actions_while_they_are_disabled_nor_for_an_unchanged_state(
        moto: MotoServer) -> None:
    cw, sns = _client(moto, "cloudwatch"), _client(moto, "sns")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    _alarm(cw, "quiet", [topic], ActionsEnabled=False)
    cw.set_alarm_state(AlarmName="quiet", StateValue="ALARM", StateReason="one")
    cw.set_alarm_state(AlarmName="quiet", StateValue="ALARM", StateReason="again")  # no transition
    _alarm(cw, "quiet", [topic], ActionsEnabled=True)

    items = cw.describe_alarm_history(AlarmName="quiet")["AlarmHistoryItems"]
    assert [i["HistoryItemType"] for i in items] == ["ConfigurationUpdate", "StateUpdate", "ConfigurationUpdate"]
    assert items[0]["HistorySummary"] == 'Alarm "quiet" updated'
    update = json.loads(items[0]["HistoryData"])
    assert update["originalAlarm"]["actionsEnabled"] is False and update["updatedAlarm"]["actionsEnabled"] is True


def test_alarm_history_filters_by_name_type_and_date_and_pages(moto: MotoServer) -> None:
    cw = _client(moto, "cloudwatch")
    _alarm(cw, "first", [])
    _alarm(cw, "second", [])
    for state in ("ALARM", "OK", "ALARM"):
        cw.set_alarm_state(AlarmName="second", StateValue=state, StateReason="test")

    oldest = cw.describe_alarm_history(ScanBy="TimestampAscending")["AlarmHistoryItems"]
    assert [(i["AlarmName"], i["HistoryItemType"]) for i in oldest[:2]] == \
        [("first", "ConfigurationUpdate"), ("second", "ConfigurationUpdate")]
    assert len(oldest) == 5

    pages, token = [], None
    while True:
        answer = cw.describe_alarm_history(AlarmName="second", HistoryItemType="StateUpdate", MaxRecords=2,
                                           **({"NextToken": token} if token else {}))
        pages.append([i["HistorySummary"] for i in answer["AlarmHistoryItems"]])
        token = answer.get("NextToken")
        if not token:
            break
    assert pages == [["Alarm updated from OK to ALARM", "Alarm updated from ALARM to OK"],
                     ["Alarm updated from OK to ALARM"]]

    past = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    assert cw.describe_alarm_history(EndDate=past)["AlarmHistoryItems"] == []
    assert len(cw.describe_alarm_history(StartDate=past)["AlarmHistoryItems"]) == 5
    assert cw.describe_alarm_history(AlarmTypes=["CompositeAlarm"])["AlarmHistoryItems"] == []
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        cw.describe_alarm_history(NextToken="not-a-token")
    assert _error(raised) == ("InvalidNextToken", 400)


# --- CloudWatch GetMetricData percentiles ----------------------------------------------------


def _percentiles(cw: Any, minute: dt.datetime, metric: str, stats: tuple[str, ...]) -> dict[str, list[float]]:
    answer = cw.get_metric_data(
        StartTime=minute - dt.timedelta(minutes=5), EndTime=minute + dt.timedelta(minutes=5),
        MetricDataQueries=[{"Id": f"q{i}", "Label": stat, "MetricStat": {
            "Metric": {"Namespace": "Demo", "MetricName": metric}, "Period": 60, "Stat": stat}}
            for i, stat in enumerate(stats)])
    return {r["Label"]: r["Values"] for r in answer["MetricDataResults"]}


def test_percentiles_are_computed_from_the_raw_values_of_each_period(moto: MotoServer) -> None:
    cw = _client(moto, "cloudwatch")
    minute = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    # 1..100 in shuffled order, half as single values and half as Values/Counts.
    values = [float((i * 37) % 100 + 1) for i in range(100)]
    cw.put_metric_data(Namespace="Demo", MetricData=[
        {"MetricName": "Latency", "Value": v, "Timestamp": minute} for v in values[:50]])
    cw.put_metric_data(Namespace="Demo", MetricData=[
        {"MetricName": "Latency", "Values": values[50:], "Counts": [1.0] * 50, "Timestamp": minute}])

    found = _percentiles(cw, minute, "Latency", ("p50", "p95", "p99", "p99.5", "p100", "Maximum"))
    assert found == {"p50": [50.0], "p95": [95.0], "p99": [99.0], "p99.5": [100.0], "p100": [100.0],
                     "Maximum": [100.0]}


def test_percentiles_over_statistic_sets_follow_what_aws_documents(moto: MotoServer) -> None:
    cw = _client(moto, "cloudwatch")
    minute = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    # Minimum equal to Maximum: usable (ten samples of 7); SampleCount 1: usable.
    cw.put_metric_data(Namespace="Demo", MetricData=[
        {"MetricName": "Flat", "Timestamp": minute,
         "StatisticValues": {"SampleCount": 10, "Sum": 70, "Minimum": 7, "Maximum": 7}},
        {"MetricName": "Flat", "Timestamp": minute,
         "StatisticValues": {"SampleCount": 1, "Sum": 9, "Minimum": 9, "Maximum": 9}}])
    assert _percentiles(cw, minute, "Flat", ("p50", "p95")) == {"p50": [7.0], "p95": [9.0]}
    # A spread-out statistic set has no raw values: no percentile for that period, other stats still.
    cw.put_metric_data(Namespace="Demo", MetricData=[
        {"MetricName": "Spread", "Timestamp": minute,
         "StatisticValues": {"SampleCount": 4, "Sum": 10, "Minimum": 1, "Maximum": 4}}])
    assert _percentiles(cw, minute, "Spread", ("p95", "Sum")) == {"p95": [], "Sum": [10.0]}
    # Negative values: AWS gives no percentiles.
    cw.put_metric_data(Namespace="Demo", MetricData=[{"MetricName": "Signed", "Value": v, "Timestamp": minute}
                                                     for v in (-1.0, 2.0)])
    assert _percentiles(cw, minute, "Signed", ("p50",)) == {"p50": []}


def test_percentiles_through_aiobotocore(moto: MotoServer) -> None:
    cw = _client(moto, "cloudwatch")
    minute = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    cw.put_metric_data(Namespace="Demo", MetricData=[{"MetricName": "Duration", "Value": float(v),
                                                      "Timestamp": minute} for v in range(1, 21)])

    async def read() -> list[float]:
        async with AwsSession(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1")) as session:
            client = await session.client("cloudwatch")
            answer = await client.get_metric_data(
                StartTime=minute - dt.timedelta(minutes=1), EndTime=minute + dt.timedelta(minutes=1),
                MetricDataQueries=[{"Id": "p", "MetricStat": {
                    "Metric": {"Namespace": "Demo", "MetricName": "Duration"}, "Period": 60, "Stat": "p95"}}])
            return answer["MetricDataResults"][0]["Values"]  # type: ignore[no-any-return]

    assert asyncio.run(read()) == [19.0]


# --- CodeBuild source credentials ------------------------------------------------------------


def test_source_credentials_are_listed_without_their_token_and_can_be_deleted(moto: MotoServer) -> None:
    cb = _client(moto, "codebuild")
    assert cb.list_source_credentials()["sourceCredentialsInfos"] == []
    arn = cb.import_source_credentials(token="ghp_very_secret", serverType="GITHUB",
                                       authType="PERSONAL_ACCESS_TOKEN")["arn"]
    assert arn == f"arn:aws:codebuild:us-east-1:{ACCOUNT}:token/github"
    cb.import_source_credentials(token="bb_secret", username="ci", serverType="BITBUCKET", authType="BASIC_AUTH")

    listed = cb.list_source_credentials()
    assert sorted((i["serverType"], i["authType"]) for i in listed["sourceCredentialsInfos"]) == \
        [("BITBUCKET", "BASIC_AUTH"), ("GITHUB", "PERSONAL_ACCESS_TOKEN")]
    assert "secret" not in json.dumps(listed, default=str)

    with pytest.raises(botocore.exceptions.ClientError) as raised:
        cb.import_source_credentials(token="other", serverType="GITHUB", authType="PERSONAL_ACCESS_TOKEN",
                                     shouldOverwrite=False)
    assert _error(raised)[0] == "ResourceAlreadyExistsException"

    assert cb.delete_source_credentials(arn=arn)["arn"] == arn
    assert [i["serverType"] for i in cb.list_source_credentials()["sourceCredentialsInfos"]] == ["BITBUCKET"]
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        cb.delete_source_credentials(arn=arn)
    assert _error(raised)[0] == "ResourceNotFoundException"


# --- Lambda GetAccountSettings ---------------------------------------------------------------


def test_lambda_account_settings_show_the_default_limits_and_the_regions_usage(moto: MotoServer) -> None:
    lam = _client(moto, "lambda")
    sizes = [function(moto.endpoint, name)["CodeSize"] for name in ("worker", "poller")]
    lam.put_function_concurrency(FunctionName="worker", ReservedConcurrentExecutions=150)

    settings = lam.get_account_settings()
    assert settings["AccountLimit"] == {
        "TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000, "CodeSizeZipped": 52428800,
        "ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 850}
    assert settings["AccountUsage"] == {"TotalCodeSize": sum(sizes), "FunctionCount": 2}
    other = boto3.client("lambda", endpoint_url=moto.endpoint, region_name="eu-west-1", config=NO_RETRY)
    assert other.get_account_settings()["AccountUsage"] == {"TotalCodeSize": 0, "FunctionCount": 0}


# --- SNS ListSubscriptionsByTopic ------------------------------------------------------------


def test_listing_subscriptions_of_a_malformed_or_missing_topic_is_a_client_error(moto: MotoServer) -> None:
    sns = _client(moto, "sns")
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        sns.list_subscriptions_by_topic(TopicArn="not-an-arn")
    assert _error(raised) == ("InvalidParameter", 400)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        sns.list_subscriptions_by_topic(TopicArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:no-such-topic")
    assert _error(raised) == ("NotFound", 404)


# --- IAM SimulatePrincipalPolicy -------------------------------------------------------------


def _document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _decisions(iam: Any, arn: str, actions: list[str], **extra: Any) -> dict[tuple[str, str], str]:
    results = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=actions, **extra)["EvaluationResults"]
    return {(r["EvalActionName"], r["EvalResourceName"]): r["EvalDecision"] for r in results}


def test_simulator_evaluates_a_users_own_and_group_policies(moto: MotoServer) -> None:
    iam = _client(moto, "iam")
    user = iam.create_user(UserName="deployer")["User"]["Arn"]
    iam.put_user_policy(UserName="deployer", PolicyName="read-logs", PolicyDocument=_document(
        {"Effect": "Allow", "Action": "LOGS:Get*", "Resource": "*"}))
    iam.create_group(GroupName="builders")
    iam.add_user_to_group(GroupName="builders", UserName="deployer")
    managed = iam.create_policy(PolicyName="build-everything-but-delete", PolicyDocument=_document(
        {"Effect": "Allow", "NotAction": "codebuild:Delete*", "Resource": "arn:aws:codebuild:*:*:project/app-?"},
        {"Effect": "Deny", "Action": "logs:GetLogEvents", "Resource": "*"}))["Policy"]["Arn"]
    iam.attach_group_policy(GroupName="builders", PolicyArn=managed)

    results = iam.simulate_principal_policy(
        PolicySourceArn=user, ActionNames=["logs:getloggroupfields", "logs:GetLogEvents", "codebuild:StartBuild",
                                           "codebuild:DeleteProject"],
        ResourceArns=["arn:aws:codebuild:us-east-1:123456789012:project/app-1",
                      "arn:aws:codebuild:us-east-1:123456789012:project/app-10"])["EvaluationResults"]
    decided = {(r["EvalActionName"], r["EvalResourceName"].rsplit("/", 1)[1]): r["EvalDecision"] for r in results}
    assert decided == {
        ("logs:getloggroupfields", "app-1"): "allowed", ("logs:getloggroupfields", "app-10"): "allowed",
        ("logs:GetLogEvents", "app-1"): "explicitDeny", ("logs:GetLogEvents", "app-10"): "explicitDeny",
        ("codebuild:StartBuild", "app-1"): "allowed", ("codebuild:StartBuild", "app-10"): "implicitDeny",
        ("codebuild:DeleteProject", "app-1"): "implicitDeny", ("codebuild:DeleteProject", "app-10"): "implicitDeny",
    }
    matched = {(r["EvalActionName"], r["EvalResourceName"].rsplit("/", 1)[1]): r["MatchedStatements"]
               for r in results}
    # The group's NotAction statement allows any non-delete action on app-? too.
    assert matched[("logs:getloggroupfields", "app-10")] == [{"SourcePolicyId": "read-logs",
                                                              "SourcePolicyType": "user"}]
    assert [m["SourcePolicyId"] for m in matched[("logs:getloggroupfields", "app-1")]] == \
        ["read-logs", "build-everything-but-delete"]
    assert matched[("logs:GetLogEvents", "app-1")] == [{"SourcePolicyId": "build-everything-but-delete",
                                                        "SourcePolicyType": "user-managed"}]


def test_simulator_evaluates_a_roles_policies_and_reports_condition_keys(moto: MotoServer) -> None:
    iam = _client(moto, "iam")
    role = iam.create_role(RoleName="runner", Path="/service/", AssumeRolePolicyDocument=_document(
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}))["Role"]
    iam.put_role_policy(RoleName="runner", PolicyName="inline", PolicyDocument=_document(
        {"Effect": "Allow", "Action": ["s3:GetObject"], "NotResource": "arn:aws:s3:::private/*"},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}))
    iam.attach_role_policy(RoleName="runner",
                           PolicyArn=iam.create_policy(PolicyName="cw", PolicyDocument=_document(
                               {"Effect": "Allow", "Action": "cloudwatch:*", "Resource": "*"}))["Policy"]["Arn"])

    decided = _decisions(iam, role["Arn"], ["s3:GetObject", "cloudwatch:DescribeAlarmHistory"],
                         ResourceArns=["arn:aws:s3:::public/a", "arn:aws:s3:::private/b"])
    assert decided == {("s3:GetObject", "arn:aws:s3:::public/a"): "allowed",
                       ("s3:GetObject", "arn:aws:s3:::private/b"): "implicitDeny",
                       ("cloudwatch:DescribeAlarmHistory", "arn:aws:s3:::public/a"): "allowed",
                       ("cloudwatch:DescribeAlarmHistory", "arn:aws:s3:::private/b"): "allowed"}
    kms = iam.simulate_principal_policy(PolicySourceArn=role["Arn"], ActionNames=["kms:Decrypt"])
    assert kms["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"
    assert kms["EvaluationResults"][0]["MissingContextValues"] == ["kms:ViaService"]


def test_simulator_refuses_missing_and_malformed_principals(moto: MotoServer) -> None:
    iam = _client(moto, "iam")
    for arn in (f"arn:aws:iam::{ACCOUNT}:user/moto", f"arn:aws:iam::{ACCOUNT}:role/nobody"):
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["s3:ListBucket"])
        assert _error(raised) == ("NoSuchEntity", 404)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        iam.simulate_principal_policy(PolicySourceArn="deployer-is-not-an-arn", ActionNames=["s3:ListBucket"])
    assert _error(raised) == ("InvalidInput", 400)


def test_simulator_agrees_with_the_servers_injected_denials(moto: MotoServer) -> None:
    iam = _client(moto, "iam")
    user = iam.create_user(UserName="admin")["User"]["Arn"]
    iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=_document(
        {"Effect": "Allow", "Action": "*", "Resource": "*"}))
    moto.faults(deny=["logs:FilterLogEvents", "ListFunctions"])

    decided = _decisions(iam, user, ["logs:FilterLogEvents", "lambda:ListFunctions", "logs:GetLogEvents"])
    assert decided == {("logs:FilterLogEvents", "*"): "explicitDeny", ("lambda:ListFunctions", "*"): "explicitDeny",
                       ("logs:GetLogEvents", "*"): "allowed"}
    with pytest.raises(botocore.exceptions.ClientError):  # and the probe agrees
        _client(moto, "logs").filter_log_events(logGroupName="/aws/lambda/any")


def test_versions_of_a_secret_are_dated_when_they_were_created() -> None:
    """moto dates every version at the time of the listing; AWS at its creation, which is
    when the secret changed. The backend's own record is dated back so that the two differ
    (in the server a listing would have to wait for the clock to tick)."""
    from moto.secretsmanager.models import SecretsManagerBackend

    from warroom.demo.readapis import install_patches

    install_patches()
    backend = SecretsManagerBackend("us-east-1", "123456789012")
    backend.create_secret(name="dated", secret_string="v1", secret_binary=None, description=None,
                          tags=None, kms_key_id=None, client_request_token=None, replica_regions=[],
                          force_overwrite=False)
    backend.put_secret_value("dated", secret_string="v2", secret_binary=None, client_request_token=None,
                             version_stages=["AWSCURRENT"])
    versions = backend.secrets["dated"].versions
    created = {vid: 1_700_000_000 + n * 3600 for n, vid in enumerate(versions)}
    for vid, when in created.items():
        versions[vid]["createdate"] = when
    listed = json.loads(backend.list_secret_version_ids("dated"))["Versions"]
    assert {v["VersionId"]: v["CreatedDate"] for v in listed} == created


def test_versions_of_a_missing_secret_are_not_found_as_aws_says(moto: MotoServer) -> None:
    # moto's own answer is a 500, which clients retry: `warroom doctor` waited 19 s on it.
    sm = boto3.client("secretsmanager", endpoint_url=moto.endpoint, region_name="us-east-1",
                      config=botocore.config.Config(retries={"max_attempts": 1}))
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        sm.list_secret_version_ids(SecretId="no-such-secret")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    sm.create_secret(Name="a-secret", SecretString="v")
    assert [v["VersionStages"] for v in sm.list_secret_version_ids(SecretId="a-secret")["Versions"]] == [
        ["AWSCURRENT"]]
