"""Seeds the demo world into a running moto server, named as the two guides name it.

BuildingOS (Terraform + Lambda + API Gateway, `bos-dev-*`) and the Kiro worker (CDK +
Lambda + CodeBuild + a DynamoDB lock, `kiro-worker-test-*`). Several resources start
broken on purpose (the incidents on the first screen); `scenarios.py` says which.
"""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from dataclasses import dataclass, field
from typing import Any

from warroom.demo import control

ACCOUNT = "123456789012"
REGION = "us-east-1"

# -- BuildingOS -------------------------------------------------------------------------
BOS_ROLE = "bos-dev-lambda-exec-role"
BOS_DATA_POLICY = "bos-dev-data-access"  # its inline policy: the last deploy dropped PutItem
BOS_LAYER = "bos-dev-common-utils"
AGENT_PERSONA = "bos-dev-agent-persona"
API_HANDLER = "bos-dev-api-handler"
WEBSOCKET_HANDLER = "bos-dev-websocket-handler"
EVENT_PROCESSOR = "bos-dev-event-processor"  # still on python3.9 while its layer is built for 3.11
NOTIFIER = "bos-dev-notification-sender"  # deployed, but its log group was never created
HTTP_API = "bos-dev-http-api"
WEBSOCKET_API = "bos-dev-websocket-api"
BOS_TABLES = ("bos-dev-agents", "bos-dev-conversations", "bos-dev-buildings", "bos-dev-connections")
TF_LOCK_TABLE = "terraform-state-lock"
BOS_TOPICS = ("bos-dev-alerts", "bos-dev-notifications")
BOS_KEY_ALIAS = "alias/bos-dev-key"
BOS_CI_PROJECT = "bos-dev-terraform"

# -- Kiro worker ------------------------------------------------------------------------
POLLER = "kiro-worker-test-poller"
DEPLOYER_USER = "deployer"
KIRO_POLLER_ROLE = "kiro-worker-test-poller-role"
KIRO_CODEBUILD_ROLE = "KiroWorkerCodeBuildRole"
KIRO_PROJECT = "kiro-worker-test"
KIRO_PIPELINE = "kiro-worker-test-pipeline"  # the CI project that runs `cdk deploy`
LOCKS_TABLE = "kiro-worker-test-locks"
LOCK_KEY = "work-item-processor-lock"
LOCK_TTL_S = 2 * 3600
GITHUB_TOKEN = "kiro-worker-test-github-token"
GIT_CREDENTIALS = "kiro-worker-test-git-credentials"
PROJECT_CONFIG = "/kiro-worker/test/github-project-config"
STAGING_PROJECT_CONFIG = "/kiro-worker/staging/github-project-config"  # never created
CORE_STACK = "KiroWorkerCore"
MONITORING_STACK = "KiroWorkerMonitoring"
ARTIFACTS_BUCKET = "kiro-worker-test-artifacts"
KIRO_TOPIC = "kiro-worker-test-alerts"
ONCALL_EMAIL = "oncall@example.com"
BUILD_FAILURES_ALARM = "kiro-worker-test-build-failures"

BOARD_COLUMNS = ("Backlog", "For Implementation", "In Progress", "In Review", "Done")
TF_LOCK_ID = "f9763602-b03f-e35c-da30-4083cdbb99ae"
GOOD_PROJECT_CONFIG = {"organization": "kiro-labs", "repository": "kiro-worker",
                       "projectNumber": 1, "targetStatusColumn": "For Implementation"}
GOOD_GIT_CREDENTIALS = {"username": "git", "password": "ghp_demoDemoDemoDemoDemoDemoDemoDemo0001"}
GOOD_GITHUB_TOKEN = "ghp_demoTokenDemoTokenDemoTokenDemo0002"
ROTATION_SESSION = "secret-rotation"  # the session name the rotation job assumes a role under

# Which functions the simulator invokes, with their simulated work: duration (ms) and peak memory (MB).
FUNCTIONS: dict[str, dict[str, Any]] = {
    AGENT_PERSONA: {"runtime": "python3.11", "timeout": 30, "memory": 512, "tracing": "Active",
                    "layer": True, "duration_ms": 41_000, "used_mb": 196,
                    "env": {"TABLE_NAME": "bos-dev-agents", "LOG_LEVEL": "INFO"}},
    API_HANDLER: {"runtime": "python3.11", "timeout": 29, "memory": 128, "tracing": "Active",
                  "layer": True, "duration_ms": 180, "used_mb": 184,
                  "env": {"TABLE_NAME": "bos-dev-buildings", "KMS_KEY_ALIAS": BOS_KEY_ALIAS}},
    WEBSOCKET_HANDLER: {"runtime": "python3.11", "timeout": 10, "memory": 256, "tracing": "PassThrough",
                        "layer": False, "duration_ms": 45, "used_mb": 71,
                        "env": {"CONNECTIONS_TABLE": "bos-dev-connections"}},
    EVENT_PROCESSOR: {"runtime": "python3.9", "timeout": 60, "memory": 256, "tracing": "Active",
                      "layer": True, "duration_ms": 300, "used_mb": 90,
                      "env": {"TABLE_NAME": "bos-dev-buildings"}},
    NOTIFIER: {"runtime": "python3.11", "timeout": 30, "memory": 256, "tracing": "Active",
               "layer": True, "duration_ms": 120, "used_mb": 64, "log_group": False,
               "env": {"TOPIC_NAME": "bos-dev-notifications"}},
    POLLER: {"runtime": "nodejs20.x", "timeout": 900, "memory": 512, "tracing": "Active",
             "layer": False, "duration_ms": 2_400, "used_mb": 143, "role": KIRO_POLLER_ROLE,
             "env": {"LOCKS_TABLE_NAME": LOCKS_TABLE, "GITHUB_TOKEN_SECRET_ARN": GITHUB_TOKEN,
                     "GIT_CREDENTIALS_SECRET_ARN": GIT_CREDENTIALS, "CODEBUILD_PROJECT_NAME": KIRO_PROJECT,
                     "CONFIG_PARAMETER_NAME": PROJECT_CONFIG, "ENVIRONMENT": "test"}},
}

# Configuration the functions were created with; the deploy in `_changes` then sets FUNCTIONS' own.
BEFORE_DEPLOY: dict[str, dict[str, Any]] = {AGENT_PERSONA: {"Timeout": 60}}

HTTP_ROUTES = ("GET /health", "GET /agents", "POST /agents/{id}/chat", "GET /buildings/{id}")
WS_ROUTES = ("$connect", "$disconnect", "$default", "sendMessage")

_CORE_TEMPLATE = {
    "Description": "Kiro worker core: locks table, secrets, artifacts bucket (demo)",
    "Resources": {name: {"Type": "AWS::CloudFormation::WaitConditionHandle"}
                  for name in ("LocksTable", "GitHubTokenSecret", "GitCredentialsSecret",
                               "ArtifactsBucket", "PollerFunction", "WorkerProject")},
}
_MONITORING_TEMPLATE = {
    "Description": "Kiro worker monitoring: alarms and the alerts topic (demo)",
    "Resources": {name: {"Type": "AWS::CloudFormation::WaitConditionHandle"}
                  for name in ("AlertsTopic", "BuildFailuresAlarm", "PollerErrorsAlarm")},
}


@dataclass
class World:
    """What was seeded: the endpoint and the names/ids the simulator and tests need."""

    endpoint: str
    started: float
    http_api_id: str = ""
    websocket_api_id: str = ""
    key_id: str = ""
    topic_arns: dict[str, str] = field(default_factory=dict)
    layer_arn: str = ""

    @property
    def log_groups(self) -> list[str]:
        """Every log group the simulator writes to."""
        return log_groups()


def log_groups() -> list[str]:
    groups = [f"/aws/lambda/{name}" for name, spec in FUNCTIONS.items() if spec.get("log_group", True)]
    groups += [f"/aws/apigateway/{HTTP_API}", f"/aws/apigateway/{WEBSOCKET_API}",
               f"/aws/codebuild/{KIRO_PROJECT}", f"/aws/codebuild/{KIRO_PIPELINE}",
               f"/aws/codebuild/{BOS_CI_PROJECT}"]
    return groups


def clients(endpoint: str, key: dict[str, str] | None = None) -> Any:
    """A factory of boto3 clients on the world (dummy credentials, or `key` from the world's IAM)."""
    import boto3
    import botocore.config

    key = key or {"AccessKeyId": "testing", "SecretAccessKey": "testing", "SessionToken": "testing"}
    session = boto3.session.Session(aws_access_key_id=key["AccessKeyId"],
                                    aws_secret_access_key=key["SecretAccessKey"],
                                    aws_session_token=key.get("SessionToken"), region_name=REGION)
    config = botocore.config.Config(retries={"mode": "standard", "max_attempts": 3},
                                    inject_host_prefix=False)
    cache: dict[str, Any] = {}
    lock = threading.Lock()

    def client(service: str) -> Any:
        with lock:  # creating clients from one session is not thread-safe; using them is
            if service not in cache:
                cache[service] = session.client(service, endpoint_url=endpoint, config=config)
            return cache[service]

    return client


def _zip(runtime: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if runtime.startswith("python"):
            archive.writestr("main.py", "def handler(event, context):\n    return {'statusCode': 200}\n")
        else:
            archive.writestr("index.js", "exports.handler = async () => ({ statusCode: 200 });\n")
    return buffer.getvalue()


_LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
_CODEBUILD_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def seed(endpoint: str, now: float | None = None, changes: bool = True) -> World:
    """Create every resource of both systems; returns what the simulator needs to know.
    Without `changes`, the changes that broke them are the caller's to make (`break_it`)."""
    now = time.time() if now is None else now
    from concurrent.futures import ThreadPoolExecutor

    client = clients(endpoint)
    world = World(endpoint=endpoint, started=now)
    # Two waves of independent services in parallel (moto's server is threaded): the
    # second needs the roles, key and topics of the first.
    waves = [
        [lambda: _iam(client), lambda: _kms(client, world), lambda: _sns(client, world)],
        [lambda: _lambda(client, world), lambda: _logs(client), lambda: _apis(client, world),
         lambda: _tables(client, now), lambda: _secrets_and_parameters(client),
         lambda: _codebuild(client), lambda: _s3(client), lambda: _alarms(client, world),
         lambda: _stacks(client, endpoint)],
    ]
    with ThreadPoolExecutor(max_workers=6) as pool:
        for wave in waves:
            for future in [pool.submit(job) for job in wave]:
                future.result()
    if changes:
        break_it(endpoint)
    return world


def break_it(endpoint: str) -> None:
    """The changes that broke the world, made through the API by their authors."""
    _changes(endpoint, clients(endpoint))


def _changes(endpoint: str, client: Any) -> None:
    """The changes that broke things, made as their authors made them: CloudTrail records them.

    A deploy by `deployer` lowers the agent's timeout and drops PutItem from the data
    policy; the rotation job, under an assumed role, rotates the GitHub token to a blank line.
    """
    iam = client("iam")
    deployer = clients(endpoint, iam.create_access_key(UserName=DEPLOYER_USER)["AccessKey"])
    for name, fields in BEFORE_DEPLOY.items():
        deployed = _sizing(FUNCTIONS[name])
        deployer("lambda").update_function_configuration(FunctionName=name, **{f: deployed[f] for f in fields})
    deployer("iam").put_role_policy(RoleName=BOS_ROLE, PolicyName=BOS_DATA_POLICY,
                                    PolicyDocument=json.dumps(bos_data_policy(put_item=False)))
    rotation = clients(endpoint, client("sts").assume_role(
        RoleArn=role_arn(KIRO_CODEBUILD_ROLE), RoleSessionName=ROTATION_SESSION)["Credentials"])
    # The rotation wrote a blank line: AWSCURRENT is "empty", AWSPREVIOUS still holds the token.
    rotation("secretsmanager").put_secret_value(SecretId=GITHUB_TOKEN, SecretString="\n")


def _sizing(spec: dict[str, Any]) -> dict[str, Any]:
    return {"Timeout": spec["timeout"], "MemorySize": spec["memory"]}


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def _iam(client: Any) -> None:
    iam = client("iam")
    # moto does not load AWS-managed policies; a customer-managed twin of
    # AWSLambdaBasicExecutionRole stands in for it.
    logs_policy = iam.create_policy(PolicyName="warroom-demo-basic-execution", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
            "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]}]}))["Policy"]["Arn"]
    for name, trust in ((BOS_ROLE, _LAMBDA_TRUST), (KIRO_POLLER_ROLE, _LAMBDA_TRUST),
                        (KIRO_CODEBUILD_ROLE, _CODEBUILD_TRUST)):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        iam.attach_role_policy(RoleName=name, PolicyArn=logs_policy)
    # With PutItem at first; the deploy in `_changes` drops it and the api handler's writes are denied.
    iam.put_role_policy(RoleName=BOS_ROLE, PolicyName=BOS_DATA_POLICY,
                        PolicyDocument=json.dumps(bos_data_policy(put_item=True)))
    iam.create_user(UserName=DEPLOYER_USER)
    iam.attach_user_policy(UserName=DEPLOYER_USER, PolicyArn=logs_policy)


def bos_data_policy(put_item: bool) -> dict[str, Any]:
    """The BuildingOS role's data access, before the deploy (with PutItem) and after."""
    actions = ["dynamodb:GetItem", "dynamodb:Query", *(["dynamodb:PutItem"] if put_item else [])]
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/bos-dev-*"},
        {"Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": "*"}]}


def _kms(client: Any, world: World) -> None:
    kms = client("kms")
    key = kms.create_key(Description="BuildingOS dev data key")["KeyMetadata"]
    world.key_id = key["KeyId"]
    kms.create_alias(AliasName=BOS_KEY_ALIAS, TargetKeyId=world.key_id)


def _lambda(client: Any, world: World) -> None:
    lam = client("lambda")
    layer = lam.publish_layer_version(
        LayerName=BOS_LAYER, Description="Shared utilities: requests, pydantic, bos_common",
        Content={"ZipFile": _zip("python3.11")}, CompatibleRuntimes=["python3.11"])
    world.layer_arn = layer["LayerVersionArn"]
    for name, spec in FUNCTIONS.items():
        handler = "main.handler" if spec["runtime"].startswith("python") else "index.handler"
        lam.create_function(
            FunctionName=name, Runtime=spec["runtime"], Handler=handler,
            Role=role_arn(spec.get("role", BOS_ROLE)), Code={"ZipFile": _zip(spec["runtime"])},
            **{**_sizing(spec), **BEFORE_DEPLOY.get(name, {})},
            TracingConfig={"Mode": spec["tracing"]},
            Layers=[world.layer_arn] if spec["layer"] else [],
            Environment={"Variables": spec["env"]},
            Tags={"project": "kiro-worker" if name.startswith("kiro") else "buildingos"})
    # Reserved concurrency of 2 on the agent: callers get TooManyRequestsException.
    lam.put_function_concurrency(FunctionName=AGENT_PERSONA, ReservedConcurrentExecutions=2)


def _logs(client: Any) -> None:
    logs = client("logs")
    for group in log_groups():
        logs.create_log_group(logGroupName=group)
        logs.put_retention_policy(logGroupName=group, retentionInDays=14)


def _apis(client: Any, world: World) -> None:
    gw = client("apigatewayv2")
    lam_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"
    api = gw.create_api(Name=HTTP_API, ProtocolType="HTTP", Description="BuildingOS HTTP API")
    world.http_api_id = api["ApiId"]
    integration = gw.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY",
                                        IntegrationUri=lam_arn + API_HANDLER, PayloadFormatVersion="2.0")
    persona = gw.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY",
                                    IntegrationUri=lam_arn + AGENT_PERSONA, PayloadFormatVersion="2.0")
    for route in HTTP_ROUTES:
        if route == "GET /buildings/{id}":
            continue  # renamed in the last deploy: the clients still call it, hence the 404s
        target = persona if "chat" in route else integration
        gw.create_route(ApiId=api["ApiId"], RouteKey=route,
                        Target=f"integrations/{target['IntegrationId']}")
    gw.create_stage(ApiId=api["ApiId"], StageName="dev", AutoDeploy=True, AccessLogSettings={
        "DestinationArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/apigateway/{HTTP_API}",
        "Format": "$context.requestId"})
    ws = gw.create_api(Name=WEBSOCKET_API, ProtocolType="WEBSOCKET",
                       RouteSelectionExpression="$request.body.action", Description="BuildingOS realtime")
    world.websocket_api_id = ws["ApiId"]
    ws_integration = gw.create_integration(ApiId=ws["ApiId"], IntegrationType="AWS_PROXY",
                                           IntegrationUri=lam_arn + WEBSOCKET_HANDLER)
    for route in WS_ROUTES:
        gw.create_route(ApiId=ws["ApiId"], RouteKey=route,
                        Target=f"integrations/{ws_integration['IntegrationId']}")
    # Routes changed, never deployed: clients fail the handshake until a deployment exists.
    gw.create_stage(ApiId=ws["ApiId"], StageName="dev", AutoDeploy=False)


def _tables(client: Any, now: float) -> None:
    ddb = client("dynamodb")
    for name in BOS_TABLES:
        ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    ddb.create_table(TableName=TF_LOCK_TABLE, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}])
    # Provisioned at 1 unit: the lock table throttles under the poller's retries.
    ddb.create_table(TableName=LOCKS_TABLE, BillingMode="PROVISIONED",
                     ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
                     AttributeDefinitions=[{"AttributeName": "lockKey", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "lockKey", "KeyType": "HASH"}])
    ddb.update_time_to_live(TableName=LOCKS_TABLE, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "ttl"})
    # The build that took this lock crashed three hours ago; its 2 h TTL has long passed
    # (DynamoDB deletes expired items lazily, up to days later).
    acquired = int(now) - 3 * 3600
    ddb.put_item(TableName=LOCKS_TABLE, Item={
        "lockKey": {"S": LOCK_KEY}, "owner": {"S": f"{KIRO_PROJECT}:7d1e0c2a-5b8f-4f0e-9c1d-3a2b4c5d6e7f"},
        "acquiredAt": {"N": str(acquired)}, "ttl": {"N": str(acquired + LOCK_TTL_S)},
        "workItem": {"S": "PVTI_lADOBx2kzs4AZ3xQzgJ1v8k"}})
    # A crashed `terraform apply` in CI left the state locked.
    ddb.put_item(TableName=TF_LOCK_TABLE, Item={
        "LockID": {"S": "bos-dev-terraform-state/dev/terraform.tfstate"},
        "Info": {"S": json.dumps({"ID": TF_LOCK_ID, "Operation": "OperationTypeApply",
                                  "Who": "codebuild@ip-10-0-3-17", "Version": "1.7.5",
                                  "Created": "2024-05-01T09:02:11.000000Z",
                                  "Path": "bos-dev-terraform-state/dev/terraform.tfstate"})}})


def _secrets_and_parameters(client: Any) -> None:
    sm = client("secretsmanager")
    # A good token until the rotation in `_changes` replaces it with a blank line.
    sm.create_secret(Name=GITHUB_TOKEN, Description="GitHub token for the Kiro worker",
                     SecretString=GOOD_GITHUB_TOKEN)
    sm.create_secret(Name=GIT_CREDENTIALS, Description="Git credentials (JSON: username, password)",
                     SecretString=json.dumps(GOOD_GIT_CREDENTIALS))
    client("ssm").put_parameter(Name=PROJECT_CONFIG, Type="String",
                                Value=json.dumps(GOOD_PROJECT_CONFIG))


def _sns(client: Any, world: World) -> None:
    sns = client("sns")
    for name in (*BOS_TOPICS, KIRO_TOPIC):
        world.topic_arns[name] = sns.create_topic(Name=name)["TopicArn"]
    sns.subscribe(TopicArn=world.topic_arns["bos-dev-alerts"], Protocol="email",
                  Endpoint="platform-team@example.com")
    sns.subscribe(TopicArn=world.topic_arns[KIRO_TOPIC], Protocol="email", Endpoint=ONCALL_EMAIL)
    control.post(world.endpoint, "subscription_pending", topic_arn=world.topic_arns[KIRO_TOPIC],
                 endpoint=ONCALL_EMAIL, pending=True)


def _codebuild(client: Any) -> None:
    cb = client("codebuild")
    for name, description in ((KIRO_PROJECT, "Runs Kiro on a GitHub work item"),
                              (KIRO_PIPELINE, "cdk deploy of the Kiro worker stacks"),
                              (BOS_CI_PROJECT, "terraform plan/apply for BuildingOS dev")):
        cb.create_project(
            name=name, description=description,
            source={"type": "GITHUB", "location": "https://github.com/kiro-labs/kiro-worker.git",
                    "buildspec": "buildspec.yml"},
            artifacts={"type": "NO_ARTIFACTS"},
            environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                         "computeType": "BUILD_GENERAL1_SMALL"},
            serviceRole=role_arn(KIRO_CODEBUILD_ROLE), timeoutInMinutes=60,
            logsConfig={"cloudWatchLogs": {"status": "ENABLED", "groupName": f"/aws/codebuild/{name}"}})


def _s3(client: Any) -> None:
    client("s3").create_bucket(Bucket=ARTIFACTS_BUCKET)


def _alarms(client: Any, world: World) -> None:
    cw = client("cloudwatch")
    bos_alerts = [world.topic_arns["bos-dev-alerts"]]
    kiro_alerts = [world.topic_arns[KIRO_TOPIC]]
    specs = [
        ("bos-dev-agent-persona-errors", "AWS/Lambda", "Errors", "FunctionName", AGENT_PERSONA, 1, "Sum", bos_alerts),
        ("bos-dev-agent-persona-duration-p95", "AWS/Lambda", "Duration", "FunctionName", AGENT_PERSONA,
         24_000, "Maximum", bos_alerts),
        ("bos-dev-api-handler-errors", "AWS/Lambda", "Errors", "FunctionName", API_HANDLER, 1, "Sum", bos_alerts),
        ("bos-dev-http-api-latency", "AWS/ApiGateway", "Latency", "ApiName", HTTP_API, 5_000, "Average", bos_alerts),
        ("bos-dev-http-api-5xx", "AWS/ApiGateway", "5xx", "ApiName", HTTP_API, 5, "Sum", bos_alerts),
        ("kiro-worker-test-poller-errors", "AWS/Lambda", "Errors", "FunctionName", POLLER, 1, "Sum", kiro_alerts),
        (BUILD_FAILURES_ALARM, "AWS/CodeBuild", "FailedBuilds", "ProjectName", KIRO_PROJECT, 1, "Sum", []),
        ("kiro-worker-test-locks-throttles", "AWS/DynamoDB", "WriteThrottleEvents", "TableName", LOCKS_TABLE,
         1, "Sum", kiro_alerts),
    ]
    for name, namespace, metric, dim, value, threshold, stat, actions in specs:
        if name == BUILD_FAILURES_ALARM:
            actions = kiro_alerts  # ...but disabled below: it goes to ALARM and nobody hears
        cw.put_metric_alarm(
            AlarmName=name, Namespace=namespace, MetricName=metric, Statistic=stat,
            Dimensions=[{"Name": dim, "Value": value}], Period=60, EvaluationPeriods=1,
            Threshold=float(threshold), ComparisonOperator="GreaterThanOrEqualToThreshold",
            AlarmActions=actions, OKActions=actions, TreatMissingData="notBreaching",
            ActionsEnabled=name != BUILD_FAILURES_ALARM)


def create_stack(client: Any, name: str) -> None:
    template = _CORE_TEMPLATE if name == CORE_STACK else _MONITORING_TEMPLATE
    client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template),
                                          Tags=[{"Key": "project", "Value": "kiro-worker"}])


CORE_FAILURE_EVENTS = [
    {"logical_id": "ArtifactsBucket", "resource_type": "AWS::S3::Bucket", "status": "CREATE_FAILED",
     "physical_id": ARTIFACTS_BUCKET,
     "reason": f"Resource handler returned message: \"{ARTIFACTS_BUCKET} already exists\" "
               "(RequestToken: 5b2ca2a8-8a6e-0b6f-2a3c-9d7c7b1e6f11, HandlerErrorCode: AlreadyExists)"},
    {"logical_id": "LocksTable", "resource_type": "AWS::DynamoDB::Table", "status": "CREATE_FAILED",
     "physical_id": LOCKS_TABLE,
     "reason": f"Resource handler returned message: \"Resource of type 'AWS::DynamoDB::Table' with "
               f"identifier '{LOCKS_TABLE}' already exists.\" (RequestToken: 0a7c4d1e-6a0b-4b8e-"
               "9f51-2c3d4e5f6a7b, HandlerErrorCode: AlreadyExists)"},
    {"logical_id": "PollerFunction", "resource_type": "AWS::Lambda::Function", "status": "CREATE_FAILED",
     "reason": "Resource handler returned message: \"Unzipped size must be smaller than 262144000 bytes "
               "(Service: Lambda, Status Code: 400, Request ID: 69b4c29e-e336-4a2b-9c1d-0f1e2d3c4b5a)\" "
               "(RequestToken: 3c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f, HandlerErrorCode: InvalidRequest)"},
    {"status": "ROLLBACK_IN_PROGRESS",
     "reason": "The following resource(s) failed to create: [ArtifactsBucket, LocksTable, "
               "PollerFunction]. Rollback requested by user."},
    {"status": "ROLLBACK_COMPLETE"},
]


def _stacks(client: Any, endpoint: str) -> None:
    create_stack(client, CORE_STACK)
    create_stack(client, MONITORING_STACK)
    # The first deployment of the core stack failed: leftovers of an earlier install.
    control.post(endpoint, "stack_events", stack=CORE_STACK, events=CORE_FAILURE_EVENTS,
                 stack_status="ROLLBACK_COMPLETE")
    # The monitoring stack's update is stuck waiting on a resource.
    control.post(endpoint, "stack_events", stack=MONITORING_STACK, events=[
        {"status": "UPDATE_IN_PROGRESS", "reason": "User Initiated"},
        {"logical_id": "PollerErrorsAlarm", "resource_type": "AWS::CloudWatch::Alarm",
         "status": "UPDATE_IN_PROGRESS"},
        {"logical_id": "AlertsTopic", "resource_type": "AWS::SNS::Topic", "status": "UPDATE_IN_PROGRESS",
         "reason": "Resource handler returned message: \"Exceeded attempts to wait\" (RequestToken: "
                   "9e8d7c6b-5a4f-3e2d-1c0b-a9f8e7d6c5b4, HandlerErrorCode: NotStabilized)"},
    ], stack_status="UPDATE_IN_PROGRESS")
