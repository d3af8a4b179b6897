"""The incidents the demo world plays, one or more per playbook.

A scenario is either *reactive* (its symptom shows while a piece of world state is
broken, and stops once a fix made through AWS changes that state) or *episodic* (it
recurs on a schedule: errors from code, CI runs or GitHub that no AWS call fixes).
Some start broken in the seeded world; others are broken by the world itself at `start`
seconds (`breaks`). Lines are written from real-looking templates, not the playbooks'
regexes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from warroom.demo import world as w

if TYPE_CHECKING:  # pragma: no cover
    from warroom.demo.simulator import Emitter, State

Emit = Callable[["Emitter", "State"], None]


@dataclass(frozen=True)
class Scenario:
    id: str
    playbook: str
    what: str                                       # the incident in one line
    emit: Emit | None = None                        # one occurrence: lines, builds, metrics
    active: Callable[[State], bool] | None = None   # reactive: shows while this holds
    fix: str = ""                                   # how the world is fixed ("" = episodic)
    start: float = 0.0                              # seconds after start: first showing / break
    every: float = 30.0                             # seconds between occurrences
    breaks: Callable[[Any], None] | None = None     # world change made once at `start` (gets a client factory)
    surface: str = "log"                            # log, probe, metric, stack, build

    @property
    def reactive(self) -> bool:
        return self.active is not None


ARN = f"arn:aws:lambda:{w.REGION}:{w.ACCOUNT}:function:"


def _sts(role: str, session: str) -> str:
    return f"arn:aws:sts::{w.ACCOUNT}:assumed-role/{role}/{session}"


def _policy_allows(documents: list[dict[str, Any]], action: str) -> bool:
    """Whether any Allow statement of these policy documents grants `action`."""
    from fnmatch import fnmatchcase

    for doc in documents:
        statements = doc.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            if statement.get("Effect") != "Allow":
                continue
            actions = statement.get("Action", [])
            for pattern in actions if isinstance(actions, list) else [actions]:
                if fnmatchcase(action.lower(), str(pattern).lower()):
                    return True
    return False


# -- reactive: BuildingOS ---------------------------------------------------------------

def _timeout(em: Emitter, st: State) -> None:
    fn = w.AGENT_PERSONA
    timeout = st.timeout(fn)
    em.invocation(fn, [f"[INFO] Generating persona reply for conversation {em.hexid(8)} "
                       "(model=claude-3-sonnet, tokens=3812)"],
                  duration_ms=timeout * 1000 + em.rng.uniform(1, 40), used_mb=em.rng.randint(180, 210),
                  timed_out=True)


def _oom(em: Emitter, st: State) -> None:
    fn = w.API_HANDLER
    mem = st.memory(fn)
    em.invocation(fn, ["[INFO] Loading building graph for bldg-0042 (18,204 nodes)"],
                  duration_ms=em.rng.uniform(900, 2400), used_mb=mem, oom=True)
    em.access(w.HTTP_API, "GET /agents", 502, em.rng.randint(900, 2500),  # a route to API_HANDLER
              error="The Lambda function returned the following error: Runtime exited with error: signal: killed")


def _cold_start(em: Emitter, st: State) -> None:
    fn = w.API_HANDLER
    init = 3400 * 128 / max(st.memory(fn), 1) + em.rng.uniform(50, 400)
    em.invocation(fn, ["[INFO] Cold start: importing bos_common, pydantic, boto3"],
                  duration_ms=em.rng.uniform(120, 300), used_mb=min(st.memory(fn), 120), init_ms=init)


def _latency(em: Emitter, st: State) -> None:
    for _ in range(3):
        latency = em.rng.randint(5400, 9800)
        em.access(w.HTTP_API, "GET /agents", 200, latency, integration=latency - em.rng.randint(5, 40))
    em.metric("AWS/ApiGateway", "Latency", {"ApiId": st.http_api_id}, em.rng.uniform(6000, 9000), "Milliseconds")
    em.metric("AWS/ApiGateway", "IntegrationLatency", {"ApiId": st.http_api_id},
              em.rng.uniform(5900, 8900), "Milliseconds")


def _throttled(em: Emitter, st: State) -> None:
    em.invocation(w.API_HANDLER, [
        "[ERROR] ClientError: An error occurred (TooManyRequestsException) when calling the Invoke "
        f"operation (reached max retries: 4): Rate Exceeded. Function {w.AGENT_PERSONA} reserved "
        f"concurrency is {st.concurrency(w.AGENT_PERSONA)}"], duration_ms=em.rng.uniform(800, 1500),
        used_mb=110, error=True)
    em.metric("AWS/Lambda", "Throttles", {"FunctionName": w.AGENT_PERSONA}, em.rng.randint(3, 12), "Count")


def _access_denied(em: Emitter, st: State) -> None:
    fn = w.API_HANDLER
    em.invocation(fn, [
        "[ERROR] ClientError: An error occurred (AccessDeniedException) when calling the PutItem "
        f"operation: User: {_sts(w.BOS_ROLE, fn)} is not authorized to perform: dynamodb:PutItem on "
        f"resource: arn:aws:dynamodb:{w.REGION}:{w.ACCOUNT}:table/bos-dev-conversations because no "
        "identity-based policy allows the dynamodb:PutItem action"], duration_ms=em.rng.uniform(40, 90),
        used_mb=100, error=True)


def _kms_decrypt(em: Emitter, st: State) -> None:
    fn = w.AGENT_PERSONA
    em.invocation(fn, [
        "[ERROR] AccessDeniedException: An error occurred (AccessDeniedException) when calling the "
        f"Decrypt operation: User: {_sts(w.BOS_ROLE, fn)} is not authorized to perform: kms:Decrypt on "
        f"resource: arn:aws:kms:{w.REGION}:{w.ACCOUNT}:key/{st.key_id} because no identity-based policy "
        "allows the kms:Decrypt action"], duration_ms=em.rng.uniform(30, 80), used_mb=150, error=True)


def _kms_disabled(em: Emitter, st: State) -> None:
    em.invocation(w.API_HANDLER, [
        "[ERROR] KMSInvalidStateException: An error occurred (KMSInvalidStateException) when calling the "
        f"GenerateDataKey operation: arn:aws:kms:{w.REGION}:{w.ACCOUNT}:key/{st.key_id} is disabled."],
        duration_ms=em.rng.uniform(30, 70), used_mb=100, error=True)


def _module_not_found(em: Emitter, st: State) -> None:
    em.invocation(w.WEBSOCKET_HANDLER, [
        "[ERROR] Runtime.ImportModuleError: Unable to import module 'main': No module named 'requests'\n"
        "Traceback (most recent call last):"], duration_ms=em.rng.uniform(1, 3), used_mb=41, error=True)


def _import_error(em: Emitter, st: State) -> None:
    em.invocation(w.EVENT_PROCESSOR, [
        "[ERROR] Runtime.ImportModuleError: Unable to import module 'main': cannot import name "
        "'TypeAlias' from 'typing' (/var/lang/lib/python3.9/typing.py)\nTraceback (most recent call last):"],
        duration_ms=em.rng.uniform(1, 3), used_mb=44, error=True)


def _xray_off(em: Emitter, st: State) -> None:
    em.invocation(w.WEBSOCKET_HANDLER, [
        "[ERROR] cannot find the current segment/subsegment, please make sure you have a segment open",
        f"[INFO] message relayed to connection {em.hexid(12)}="], duration_ms=em.rng.uniform(20, 60), used_mb=70)


def _not_found_route(em: Emitter, st: State) -> None:
    for _ in range(2):
        em.access(w.HTTP_API, "-", 404, em.rng.randint(1, 4), path=f"/dev/buildings/bldg-{em.rng.randint(1, 99):04d}")


def _apigw_permission(em: Emitter, st: State) -> None:
    em.access(w.HTTP_API, "POST /agents/{id}/chat", 500, em.rng.randint(8, 25),
              error="Execution failed due to configuration error: Invalid permissions on Lambda function",
              path=f"/dev/agents/agt-{em.rng.randint(1, 9)}/chat")


def _websocket(em: Emitter, st: State) -> None:
    url = f"wss://{st.websocket_api_id}.execute-api.{w.REGION}.amazonaws.com/dev"
    em.ws_access("$connect", 403, f"Forbidden: stage dev has no deployment for API {st.websocket_api_id}")
    em.invocation(w.AGENT_PERSONA, [
        f"[WARN] client reported: WebSocket connection to '{url}' failed: Error during WebSocket "
        "handshake: Unexpected response code: 403"], duration_ms=em.rng.uniform(5, 20), used_mb=170)


def _logs_missing(em: Emitter, st: State) -> None:
    em.invocation(w.NOTIFIER, [f"[INFO] notification sent to {em.rng.randint(1, 40)} subscribers"],
                  duration_ms=em.rng.uniform(60, 140), used_mb=64)  # dropped: no log group


def _metrics_denied(em: Emitter, st: State) -> None:
    em.invocation(w.POLLER, [
        f"{em.iso()}\t{em.rid()}\tERROR\tFailed to publish custom metrics: AccessDenied: User: "
        f"{_sts(w.KIRO_POLLER_ROLE, w.POLLER)} is not authorized to perform: cloudwatch:PutMetricData "
        "because no identity-based policy allows the cloudwatch:PutMetricData action"],
        duration_ms=em.rng.uniform(200, 400), used_mb=120, node=True)


# -- reactive: Kiro worker --------------------------------------------------------------

def _poller(em: Emitter, lines: list[str], error: bool = False) -> None:
    em.invocation(w.POLLER, [f"{em.iso()}\t{{rid}}\t{line}" for line in lines],
                  duration_ms=em.rng.uniform(300, 2400), used_mb=em.rng.randint(110, 150), node=True,
                  error=error)


def _lock_stuck(em: Emitter, st: State) -> None:
    age = (em.now - st.lock_acquired) / 3600 if st.lock_acquired else 3.0
    _poller(em, [
        f"INFO\tAcquiring lock {w.LOCK_KEY} in {w.LOCKS_TABLE}",
        "WARN\tFailed to acquire lock: ConditionalCheckFailedException: The conditional request failed",
        "INFO\tWork already in progress, skipping this execution",
        f"WARN\tFound stale lock {w.LOCK_KEY} in table {w.LOCKS_TABLE} (acquired {age:.1f}h ago, "
        f"owner {st.lock_owner}); lock remains after build completes"])


def _lock_acquired(em: Emitter, st: State) -> None:
    build = em.hexid(8)
    _poller(em, [f"INFO\tAcquired lock {w.LOCK_KEY} (ttl 7200s)",
                 f"INFO\tStarted build {w.KIRO_PROJECT}:{build} for work item PVTI_lADOBx2kzs4AZ3xQ",
                 f"INFO\tReleased lock {w.LOCK_KEY}"])


def _secret_empty(em: Emitter, st: State) -> None:
    _poller(em, [
        "ERROR\tFailed to read GitHub token: ResourceNotFoundException: Secrets Manager can't find the "
        "specified secret value for staging label: AWSCURRENT",
        f"ERROR\tSecret value is empty or invalid: {w.GITHUB_TOKEN}"], error=True)


def _token_invalid(em: Emitter, st: State) -> None:
    _poller(em, [
        'ERROR\tGitHub API request failed: HttpError: Bad credentials - https://docs.github.com/rest',
        'ERROR\t{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}'],
        error=True)


def _env_missing(em: Emitter, st: State) -> None:
    em.invocation(w.POLLER, [
        f"{em.iso()}\t{{rid}}\tERROR\tInvoke Error \t{{\"errorType\":\"Error\",\"errorMessage\":"
        "\"Environment variable LOCKS_TABLE_NAME is not defined\",\"stack\":[\"Error: Environment variable "
        "LOCKS_TABLE_NAME is not defined\",\"    at requireEnv (/var/task/index.js:12:11)\"]}"],
        duration_ms=em.rng.uniform(5, 20), used_mb=80, node=True, error=True)


def _project_missing(em: Emitter, st: State) -> None:
    number = st.project_config.get("projectNumber")
    _poller(em, [f"ERROR\tGraphQL query failed: Request failed due to following response errors: - Could "
                 f"not resolve to a ProjectV2 with the number {number}."], error=True)


def _work_items(em: Emitter, st: State) -> None:
    column = st.project_config.get("targetStatusColumn")
    _poller(em, [f'WARN\tStatus column "{column}" not found in project {st.project_config.get("projectNumber")}',
                 f"INFO\tNo work items found in target status column '{column}'"])


def _ddb_throttle(em: Emitter, st: State) -> None:
    _poller(em, [
        "WARN\tRetrying PutItem (attempt 10/10): ProvisionedThroughputExceededException: The level of "
        "configured provisioned throughput for the table was exceeded. Consider increasing your "
        "provisioning level with the UpdateTable API."], error=True)
    em.metric("AWS/DynamoDB", "ThrottledRequests", {"TableName": w.LOCKS_TABLE}, em.rng.randint(2, 9), "Count")
    em.metric("AWS/DynamoDB", "WriteThrottleEvents", {"TableName": w.LOCKS_TABLE}, em.rng.randint(2, 9), "Count")


def _start_denied(em: Emitter, st: State) -> None:
    _poller(em, [
        f"ERROR\tFailed to start build: AccessDeniedException: User: {_sts(w.KIRO_POLLER_ROLE, w.POLLER)} "
        f"is not authorized to perform: codebuild:StartBuild on resource: arn:aws:codebuild:{w.REGION}:"
        f"{w.ACCOUNT}:project/{w.KIRO_PROJECT}"], error=True)


def _git_creds(em: Emitter, st: State) -> None:
    em.build(w.KIRO_PROJECT, "FAILED", "DOWNLOAD_SOURCE", "CLIENT_ERROR: authentication required for primary "
             "source and source version refs/heads/main", [
                 "[Container] {ts} Running command git config --global credential.helper "
                 "'!aws secretsmanager get-secret-value --secret-id $GIT_CREDENTIALS_SECRET'",
                 f"Error reading {w.GIT_CREDENTIALS}: SyntaxError: Unexpected token g in JSON at position 0",
                 "jq: error (at <stdin>:1): Cannot index string with \"password\"",
                 "Failed to parse Git credentials: Invalid JSON",
                 "fatal: could not read Username for 'https://github.com': No such device or address",
             ], status_code="CLIENT_ERROR")


def _build_timeout(em: Emitter, st: State) -> None:
    timeout = st.project_timeout(w.KIRO_PROJECT)
    em.build(w.KIRO_PROJECT, "TIMED_OUT", "BUILD", "Build has timed out. ", [
        "[Container] {ts} Running command kiro-cli run --spec .kiro/specs/feature-tenant-billing",
        "[kiro] task 7/12: implementing InvoiceRepository (still running)",
        "[Container] {ts} Phase complete: BUILD State: TIMED_OUT",
        "[Container] {ts} Phase context status code: BUILD_TIMED_OUT Message: Build has timed out. ",
        f"Build timed out after {timeout} minutes",
    ], minutes=timeout, status_code="BUILD_TIMED_OUT")


def _buildspec(em: Emitter, st: State) -> None:
    path = st.buildspec(w.KIRO_PROJECT)
    em.build(w.KIRO_PROJECT, "FAILED", "DOWNLOAD_SOURCE", f"stat /codebuild/output/src2740/src/{path}: "
             "no such file or directory", [
                 f"[Container] {{ts}} Phase context status code: YAML_FILE_ERROR Message: stat "
                 f"/codebuild/output/src2740/src/{path}: no such file or directory"],
             status_code="YAML_FILE_ERROR")


# -- episodic ---------------------------------------------------------------------------

def _tf(lines: list[str], status: str = "FAILED") -> Emit:
    def emit(em: Emitter, st: State) -> None:
        em.build(w.BOS_CI_PROJECT, status, "BUILD", "Error while executing command: terraform plan. "
                 "Reason: exit status 1", [
                     "[Container] {ts} Running command terraform -chdir=terraform/environments/dev plan "
                     "-input=false -out=tfplan", *lines,
                     "[Container] {ts} Command did not exit successfully terraform plan exit status 1",
                     "[Container] {ts} Phase complete: BUILD State: FAILED"])
    return emit


def _cdk(lines: list[str]) -> Emit:
    def emit(em: Emitter, st: State) -> None:
        em.build(w.KIRO_PIPELINE, "FAILED", "BUILD", "Error while executing command: npx cdk deploy --all. "
                 "Reason: exit status 1", [
                     "[Container] {ts} Running command npx cdk deploy --all --context environment=test "
                     "--require-approval never", *lines,
                     "[Container] {ts} Phase complete: BUILD State: FAILED"])
    return emit


def _lambda_error(fn: str, lines: list[str]) -> Emit:
    def emit(em: Emitter, st: State) -> None:
        em.invocation(fn, lines, duration_ms=em.rng.uniform(20, 300), used_mb=120, error=True)
    return emit


def _poller_error(lines: list[str]) -> Emit:
    def emit(em: Emitter, st: State) -> None:
        _poller(em, lines, error=True)
    return emit


def _kiro_build(status: str, message: str, lines: list[str]) -> Emit:
    def emit(em: Emitter, st: State) -> None:
        em.build(w.KIRO_PROJECT, status, "BUILD", message, [
            "[Container] {ts} Running command ./scripts/run-kiro.sh", *lines,
            f"[Container] {{ts}} Phase complete: BUILD State: {status}"])
    return emit


def _stack_rollback(em: Emitter, st: State) -> None:
    em.build(w.KIRO_PIPELINE, "FAILED", "BUILD", "Error while executing command: npx cdk deploy. Reason: exit status 1", [
        "[Container] {ts} Running command npx cdk deploy KiroWorkerCore --context environment=test",
        f"KiroWorkerCore | 1/9 | 10:15:02 AM | CREATE_FAILED        | AWS::S3::Bucket       | ArtifactsBucket "
        f"{w.ARTIFACTS_BUCKET} already exists",
        f"KiroWorkerCore | 2/9 | 10:15:03 AM | CREATE_FAILED        | AWS::DynamoDB::Table  | LocksTable "
        f"{w.LOCKS_TABLE} already exists",
        "KiroWorkerCore | 3/9 | 10:15:04 AM | CREATE_FAILED        | AWS::Lambda::Function | PollerFunction "
        "Resource handler returned message: \"Unzipped size must be smaller than 262144000 bytes\"",
        " ❌  KiroWorkerCore failed: Error: The stack named KiroWorkerCore failed creation, it may need to be "
        "manually deleted from the AWS console: ROLLBACK_COMPLETE: Resource creation failed: Bucket name already exists",
    ])


def _deploy_timeout(em: Emitter, st: State) -> None:
    em.build(w.KIRO_PIPELINE, "FAILED", "BUILD", "Error while executing command: npx cdk deploy. Reason: exit status 1", [
        "[Container] {ts} Running command npx cdk deploy KiroWorkerMonitoring --context environment=test",
        "KiroWorkerMonitoring | 2/3 | 11:15:02 AM | UPDATE_IN_PROGRESS   | AWS::SNS::Topic | AlertsTopic "
        "Resource handler returned message: \"Exceeded attempts to wait\" (HandlerErrorCode: NotStabilized)",
        " ❌  KiroWorkerMonitoring failed: Error: Stack deployment timed out after 60 minutes",
        "Waiter StackUpdateComplete failed: Max attempts exceeded",
    ])


def _passrole(em: Emitter, st: State) -> None:
    em.build(w.KIRO_PIPELINE, "FAILED", "BUILD", "Error while executing command: npx cdk deploy. Reason: exit status 1", [
        "[Container] {ts} Running command npx cdk deploy KiroWorkerCompute --context environment=test",
        f"KiroWorkerCompute | 1/4 | 10:41:13 AM | CREATE_FAILED | AWS::CodeBuild::Project | WorkerProject "
        f"Resource handler returned message: \"User: arn:aws:iam::{w.ACCOUNT}:user/{w.DEPLOYER_USER} is not "
        f"authorized to perform: iam:PassRole on resource: arn:aws:iam::{w.ACCOUNT}:role/{w.KIRO_CODEBUILD_ROLE} "
        "because no identity-based policy allows the iam:PassRole action\"",
    ])


def _tf_lock(em: Emitter, st: State) -> None:
    _tf(["╷", "│ Error: Error acquiring the state lock", "│ ",
         "│ Error message: ConditionalCheckFailedException: The conditional request failed",
         "│ Lock Info:", f"│   ID:        {w.TF_LOCK_ID}",
         "│   Path:      bos-dev-terraform-state/dev/terraform.tfstate",
         "│   Operation: OperationTypeApply", "│   Who:       codebuild@ip-10-0-3-17",
         "│ ", "│ Terraform acquires a state lock to protect the state from being written",
         "│ by multiple users at the same time.", "╵"])(em, st)


def _pinned_ok(em: Emitter, st: State) -> None:
    em.invocation(w.API_HANDLER, ["[INFO] GET /agents 200 (12 items)"], duration_ms=40, used_mb=90)


# -- predicates -------------------------------------------------------------------------

def _token_state(st: State) -> str:
    value = st.secret(w.GITHUB_TOKEN)
    if not (value or "").strip():
        return "empty"
    return "valid" if value.startswith(("ghp_", "github_pat_", "gho_")) and len(value) >= 20 else "invalid"


def _git_creds_ok(st: State) -> bool:
    try:
        value = json.loads(st.secret(w.GIT_CREDENTIALS) or "")
    except ValueError:
        return False
    return isinstance(value, dict) and bool(value.get("username")) and bool(value.get("password"))


def _break_git_creds(client: Any) -> None:
    client("secretsmanager").put_secret_value(SecretId=w.GIT_CREDENTIALS,
                                              SecretString="git:ghp_demoDemoDemoDemoDemoDemoDemoDemo0001")


def _break_env(client: Any) -> None:
    lam = client("lambda")
    env = lam.get_function_configuration(FunctionName=w.POLLER)["Environment"]["Variables"]
    env.pop("LOCKS_TABLE_NAME", None)
    lam.update_function_configuration(FunctionName=w.POLLER, Environment={"Variables": env})


def _break_param(**changes: Any) -> Callable[[Any], None]:
    def apply(client: Any) -> None:
        ssm = client("ssm")
        value = json.loads(ssm.get_parameter(Name=w.PROJECT_CONFIG)["Parameter"]["Value"])
        value.update(changes)
        ssm.put_parameter(Name=w.PROJECT_CONFIG, Type="String", Overwrite=True, Value=json.dumps(value))
    return apply


def _break_buildspec(client: Any) -> None:
    cb = client("codebuild")
    source = cb.batch_get_projects(names=[w.KIRO_PROJECT])["projects"][0]["source"]
    cb.update_project(name=w.KIRO_PROJECT, source={**source, "buildspec": "buildspecs/kiro-build.yml"})


def _break_key(client: Any) -> None:
    kms = client("kms")
    kms.disable_key(KeyId=kms.describe_key(KeyId=w.BOS_KEY_ALIAS)["KeyMetadata"]["KeyId"])


S = Scenario
SCENARIOS: tuple[Scenario, ...] = (
    # ---- on the first screen (seeded broken) ----
    S("lambda-timeout", "lambda-timeout", f"{w.AGENT_PERSONA} runs ~41 s against a 30 s timeout",
      _timeout, lambda st: st.timeout(w.AGENT_PERSONA) * 1000 < w.FUNCTIONS[w.AGENT_PERSONA]["duration_ms"],
      fix=f"raise {w.AGENT_PERSONA}'s Timeout to 45 s or more (lambda update-function-configuration)", every=8),
    S("lambda-out-of-memory", "lambda-out-of-memory", f"{w.API_HANDLER} at 128 MB is OOM-killed on big buildings",
      _oom, lambda st: st.memory(w.API_HANDLER) < 256,
      fix=f"raise {w.API_HANDLER}'s MemorySize to 256 MB or more", every=9),
    S("dynamodb-lock-stuck", "dynamodb-lock-stuck", f"lock {w.LOCK_KEY} left by a crashed build, past its TTL",
      _lock_stuck, lambda st: st.lock_present, fix=f"delete the lock item from {w.LOCKS_TABLE} "
      "(the poller then logs that it acquired the lock)", every=12, surface="log+probe"),
    S("dynamodb-lock-held", "dynamodb-lock-held", "the poller cannot take the lock: ConditionalCheckFailed",
      None, lambda st: st.lock_present, fix="same item: delete it", surface="log (with dynamodb-lock-stuck)"),
    S("secret-value-empty", "secret-value-empty", f"{w.GITHUB_TOKEN} was rotated to a blank value",
      _secret_empty, lambda st: _token_state(st) == "empty",
      fix=f"put a value into {w.GITHUB_TOKEN} (secretsmanager put-secret-value)", every=10, surface="log+probe"),
    S("apigw-not-found", "apigw-not-found", "clients call GET /buildings/{id}, a route the last deploy dropped",
      _not_found_route, lambda st: "GET /buildings/{id}" not in st.http_routes,
      fix=f"create the route GET /buildings/{{id}} on {w.HTTP_API} (apigatewayv2 create-route)", every=7),
    S("xray-tracing-missing", "xray-tracing-missing", f"{w.WEBSOCKET_HANDLER} has tracing PassThrough",
      _xray_off, lambda st: st.tracing(w.WEBSOCKET_HANDLER) != "Active",
      fix=f"set TracingConfig Mode=Active on {w.WEBSOCKET_HANDLER}", every=20, surface="log+probe"),
    S("sns-email-not-confirmed", "sns-email-not-confirmed", f"{w.ONCALL_EMAIL} never confirmed {w.KIRO_TOPIC}",
      None, lambda st: st.subscription_pending, fix="sns subscribe again (resends the confirmation; the demo's "
      "on-call then clicks the link)", surface="probe"),
    S("alarm-not-triggering", "alarm-not-triggering", f"{w.BUILD_FAILURES_ALARM} has its actions disabled",
      None, lambda st: not st.alarm_actions_enabled, fix=f"cloudwatch enable-alarm-actions {w.BUILD_FAILURES_ALARM}",
      surface="probe"),
    S("cfn-stack-rollback", "cfn-stack-rollback", f"{w.CORE_STACK} failed to create: ROLLBACK_COMPLETE",
      _stack_rollback, lambda st: st.stack(w.CORE_STACK) in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED"),
      fix=f"delete {w.CORE_STACK}; the demo's pipeline then redeploys it (CREATE_COMPLETE)", start=5, every=90,
      surface="stack+build"),
    # ---- seeded broken, shown a little later ----
    S("lambda-cold-start", "lambda-cold-start", f"{w.API_HANDLER} at 128 MB inits in ~3.5 s",
      _cold_start, lambda st: 3400 * 128 / max(st.memory(w.API_HANDLER), 1) >= 3000
      and not st.provisioned(w.API_HANDLER),
      fix=f"raise {w.API_HANDLER}'s memory (256 MB halves init) or set provisioned concurrency", start=15, every=20),
    S("apigw-high-latency", "apigw-high-latency", f"{w.HTTP_API} p95 latency 6-9 s while {w.API_HANDLER} starves",
      _latency, lambda st: st.memory(w.API_HANDLER) < 256,
      fix=f"raise {w.API_HANDLER}'s MemorySize to 256 MB or more", start=20, every=15, surface="log+metric"),
    S("aws-throttling", "aws-throttling", f"{w.AGENT_PERSONA} has reserved concurrency 2: callers are throttled",
      _throttled, lambda st: 0 < (st.concurrency(w.AGENT_PERSONA) or 1000) < 10,
      fix=f"raise {w.AGENT_PERSONA}'s reserved concurrency to 10 or more (or remove it)", start=25, every=20,
      surface="log+metric"),
    S("iam-access-denied", "iam-access-denied", f"{w.BOS_ROLE} lacks dynamodb:PutItem",
      _access_denied, lambda st: not _policy_allows(st.role_policy(w.BOS_ROLE), "dynamodb:PutItem"),
      fix=f"put a role policy on {w.BOS_ROLE} allowing dynamodb:PutItem", start=30, every=25),
    S("kms-decrypt-denied", "kms-decrypt-denied", f"{w.BOS_ROLE} may not kms:Decrypt with the bos-dev key",
      _kms_decrypt, lambda st: not _policy_allows(st.role_policy(w.BOS_ROLE), "kms:Decrypt"),
      fix=f"put a role policy on {w.BOS_ROLE} allowing kms:Decrypt on the key", start=40, every=30),
    S("python-module-not-found", "python-module-not-found", f"{w.WEBSOCKET_HANDLER} deployed without "
      f"the {w.BOS_LAYER} layer", _module_not_found, lambda st: not st.has_layer(w.WEBSOCKET_HANDLER),
      fix=f"attach the {w.BOS_LAYER} layer to {w.WEBSOCKET_HANDLER} (update-function-configuration --layers)",
      start=35, every=25),
    S("python-import-error", "python-import-error", f"{w.EVENT_PROCESSOR} runs python3.9 with a 3.11 layer",
      _import_error, lambda st: st.runtime(w.EVENT_PROCESSOR) in ("python3.8", "python3.9", "python3.10"),
      fix=f"update {w.EVENT_PROCESSOR}'s Runtime to python3.11", start=45, every=30),
    S("websocket-connection-failed", "websocket-connection-failed", f"{w.WEBSOCKET_API} stage dev never deployed",
      _websocket, lambda st: not st.ws_deployed, fix=f"create a deployment of {w.WEBSOCKET_API} on stage dev",
      start=50, every=20),
    S("apigw-internal-error", "apigw-internal-error", f"{w.HTTP_API} may not invoke {w.AGENT_PERSONA}",
      _apigw_permission, lambda st: "apigateway.amazonaws.com" not in st.function_policy(w.AGENT_PERSONA),
      fix=f"lambda add-permission on {w.AGENT_PERSONA} for apigateway.amazonaws.com", start=55, every=20),
    S("cloudwatch-logs-missing", "cloudwatch-logs-missing", f"{w.NOTIFIER} has no log group",
      _logs_missing, lambda st: f"/aws/lambda/{w.NOTIFIER}" not in st.log_groups,
      fix=f"create the log group /aws/lambda/{w.NOTIFIER}; its invocations then log", every=30, surface="probe"),
    S("cloudwatch-metrics-missing", "cloudwatch-metrics-missing", f"{w.POLLER} may not PutMetricData",
      _metrics_denied, lambda st: not _policy_allows(st.role_policy(w.KIRO_POLLER_ROLE), "cloudwatch:PutMetricData"),
      fix=f"put a role policy on {w.KIRO_POLLER_ROLE} allowing cloudwatch:PutMetricData", start=60, every=30),
    S("dynamodb-throttling", "dynamodb-throttling", f"{w.LOCKS_TABLE} is provisioned at 1 WCU",
      _ddb_throttle, lambda st: st.billing(w.LOCKS_TABLE) == "PROVISIONED",
      fix=f"update {w.LOCKS_TABLE} to BillingMode PAY_PER_REQUEST", start=65, every=25, surface="log+metric"),
    S("codebuild-start-denied", "codebuild-start-denied", f"{w.KIRO_POLLER_ROLE} lacks codebuild:StartBuild",
      _start_denied, lambda st: not _policy_allows(st.role_policy(w.KIRO_POLLER_ROLE), "codebuild:StartBuild"),
      fix=f"put a role policy on {w.KIRO_POLLER_ROLE} allowing codebuild:StartBuild", start=70, every=30),
    S("codebuild-build-timeout", "codebuild-build-timeout", "Kiro builds need ~75 min, the project allows 60",
      _build_timeout, lambda st: st.project_timeout(w.KIRO_PROJECT) < 90,
      fix=f"update {w.KIRO_PROJECT}'s timeoutInMinutes to 90 or more", start=75, every=60, surface="build+metric"),
    S("terraform-state-lock", "terraform-state-lock", "a crashed CI apply left the Terraform state locked",
      _tf_lock, lambda st: st.tf_lock_present,
      fix=f"delete the lock item from {w.TF_LOCK_TABLE} (or terraform force-unlock)", start=80, every=60,
      surface="build"),
    S("iam-passrole-denied", "iam-passrole-denied", f"user {w.DEPLOYER_USER} may not pass {w.KIRO_CODEBUILD_ROLE}",
      _passrole, lambda st: not _policy_allows(st.user_policy(w.DEPLOYER_USER), "iam:PassRole"),
      fix=f"put a user policy on {w.DEPLOYER_USER} allowing iam:PassRole on KiroWorker* roles", start=85,
      every=60, surface="build"),
    S("cfn-deployment-timeout", "cfn-deployment-timeout", f"{w.MONITORING_STACK}'s update hangs",
      _deploy_timeout, lambda st: st.stack(w.MONITORING_STACK) == "UPDATE_IN_PROGRESS",
      fix=f"cancel the update of {w.MONITORING_STACK} (UPDATE_ROLLBACK_COMPLETE)", start=90, every=90,
      surface="stack+build"),
    S("s3-bucket-already-exists", "s3-bucket-already-exists", f"{w.ARTIFACTS_BUCKET} exists outside the stack",
      None, lambda st: st.stack(w.CORE_STACK) == "ROLLBACK_COMPLETE", fix=f"delete {w.CORE_STACK} (see cfn-stack-rollback)",
      surface="stack+build (with cfn-stack-rollback)"),
    S("dynamodb-table-already-exists", "dynamodb-table-already-exists", f"{w.LOCKS_TABLE} exists outside the stack",
      None, lambda st: st.stack(w.CORE_STACK) == "ROLLBACK_COMPLETE", fix=f"delete {w.CORE_STACK} (see cfn-stack-rollback)",
      surface="stack+build (with cfn-stack-rollback)"),
    S("lambda-code-size-exceeded", "lambda-code-size-exceeded", "the poller bundle unzips above 250 MB",
      None, lambda st: st.stack(w.CORE_STACK) == "ROLLBACK_COMPLETE", fix=f"delete {w.CORE_STACK} (see cfn-stack-rollback)",
      surface="stack+build (with cfn-stack-rollback)"),
    # ---- broken by the world during the run ----
    S("kms-key-unavailable", "kms-key-unavailable", "someone disables the bos-dev key",
      _kms_disabled, lambda st: st.key_state == "Disabled", fix="kms enable-key on alias/bos-dev-key",
      start=95, every=15, breaks=_break_key),
    S("github-work-items-not-found", "github-work-items-not-found", "the project config names a column the board lacks",
      _work_items, lambda st: bool(st.project_config)
      and st.project_config.get("targetStatusColumn") not in w.BOARD_COLUMNS,
      fix=f"ssm put-parameter {w.PROJECT_CONFIG} with targetStatusColumn 'For Implementation'", start=100,
      every=20, breaks=_break_param(targetStatusColumn="Ready for Implementation")),
    S("git-credentials-invalid-json", "git-credentials-invalid-json", f"{w.GIT_CREDENTIALS} rotated as a plain string",
      _git_creds, lambda st: not _git_creds_ok(st),
      fix=f'put {{"username":"git","password":"ghp_..."}} into {w.GIT_CREDENTIALS}', start=110, every=45,
      breaks=_break_git_creds, surface="build+probe"),
    S("codebuild-git-auth-failed", "codebuild-git-auth-failed", "git cannot authenticate: the credentials do not parse",
      None, lambda st: not _git_creds_ok(st), fix="same as git-credentials-invalid-json",
      surface="build (with git-credentials-invalid-json)"),
    S("codebuild-buildspec-missing", "codebuild-buildspec-missing", "the project points at a buildspec that is not in the repo",
      _buildspec, lambda st: st.buildspec(w.KIRO_PROJECT) not in ("buildspec.yml", ""), start=130, every=45,
      fix=f"update {w.KIRO_PROJECT}'s source buildspec back to buildspec.yml", breaks=_break_buildspec, surface="build"),
    S("lambda-env-var-missing", "lambda-env-var-missing", f"a console edit drops LOCKS_TABLE_NAME from {w.POLLER}",
      _env_missing, lambda st: "LOCKS_TABLE_NAME" not in st.env(w.POLLER),
      fix=f"set LOCKS_TABLE_NAME={w.LOCKS_TABLE} on {w.POLLER} again", start=150, every=20, breaks=_break_env,
      surface="log+probe"),
    S("github-project-not-found", "github-project-not-found", "the project config's projectNumber is edited to 16",
      _project_missing, lambda st: bool(st.project_config) and st.project_config.get("projectNumber") != 1,
      fix=f"ssm put-parameter {w.PROJECT_CONFIG} with projectNumber 1", start=170, every=20,
      breaks=_break_param(projectNumber=16)),
    S("github-token-invalid", "github-token-invalid", f"{w.GITHUB_TOKEN} holds something that is not a token",
      _token_invalid, lambda st: _token_state(st) == "invalid",
      fix=f"put a valid token (ghp_...) into {w.GITHUB_TOKEN}", every=15),
    # ---- episodic: code, CI, GitHub ----
    S("github-token-invalid-ci", "github-token-invalid", "a CI job uses a revoked token",
      _kiro_build("FAILED", "gh: HTTP 401: Bad credentials", [
          "gh: HTTP 401: Bad credentials (https://api.github.com/graphql)",
          "GitHub API returns 401 Unauthorized"]), start=185, every=240, surface="build"),
    S("python-syntax-error", "python-syntax-error", "a hot-fix with a syntax error reaches the agent",
      _lambda_error(w.AGENT_PERSONA, [
          "[ERROR] Runtime.UserCodeSyntaxError: Syntax error in module 'main': invalid syntax (main.py, line 42)",
          "Traceback (most recent call last):\n  File \"/var/task/main.py\" Line 42\n    if persona.tone = 'formal':"]),
      start=105, every=180),
    S("python-type-error", "python-type-error", "an agent without a profile crashes the handler",
      _lambda_error(w.API_HANDLER, [
          "[ERROR] TypeError: 'NoneType' object is not subscriptable",
          "Traceback (most recent call last):\n  File \"/var/task/main.py\", line 88, in handler\n"
          "    floor = building['floors'][0]"]), start=115, every=120),
    S("lambda-function-not-found", "lambda-function-not-found", "the api handler invokes a renamed function",
      _lambda_error(w.API_HANDLER, [
          "[ERROR] ResourceNotFoundException: An error occurred (ResourceNotFoundException) when calling the "
          f"Invoke operation: Function not found: {ARN}bos-dev-agent-persona-v2"]), start=120, every=150),
    S("aws-service-unavailable", "aws-service-unavailable", "a regional blip on DynamoDB",
      _lambda_error(w.API_HANDLER, [
          "[ERROR] ClientError: An error occurred (ServiceUnavailable) when calling the Query operation "
          "(reached max retries: 4): The service is temporarily unavailable. Please try again later."]),
      start=125, every=180),
    S("aws-invalid-credentials", "aws-invalid-credentials", "CI runs with a deleted access key",
      _tf(["╷", "│ Error: configuring Terraform AWS Provider: validating provider credentials: retrieving caller "
           "identity from STS: operation error STS: GetCallerIdentity, https response error StatusCode: 403, "
           "RequestID: 5c1b6c4e-2f0e-4d8a-9b3c-7e6f5d4c3b2a, api error InvalidClientTokenId: The security "
           "token included in the request is invalid.", "│ ",
           "│ InvalidAccessKeyId: The AWS Access Key ID you provided does not exist in our records.", "╵"]),
      start=135, every=240, surface="build"),
    S("terraform-missing-provider", "terraform-missing-provider", "a module adds hashicorp/random",
      _tf(["╷", '│ Error: Missing required provider "hashicorp/random"', "│ ",
           "│ This configuration requires provider registry.terraform.io/hashicorp/random, but that provider "
           "isn't available. You may be able to install it automatically by running:", "│   terraform init", "╵"]),
      start=140, every=240, surface="build"),
    S("terraform-invalid-variable", "terraform-invalid-variable", "environment=develop fails validation",
      _tf(["╷", "│ Error: Invalid value for variable", "│ ", "│   on variables.tf line 1:",
           '│    1: variable "environment" {', "│     ├────────────────", '│     │ var.environment is "develop"',
           "│ ", "│ Environment must be dev, staging or prod.", "│ ",
           "│ This was checked by the validation rule at variables.tf:5,3-13.", "╵"]),
      start=145, every=240, surface="build"),
    S("terraform-backend-changed", "terraform-backend-changed", "the state bucket key changed",
      _tf(["╷", "│ Error: Backend configuration changed", "│ ",
           "│ A change in the backend configuration has been detected, which may require migrating existing state.",
           "│ ", '│ If you wish to attempt automatic migration of the state, use "terraform init -migrate-state".', "╵"]),
      start=155, every=240, surface="build"),
    S("terraform-unsupported-argument", "terraform-unsupported-argument", "a module call passes description",
      _tf(["╷", "│ Error: Unsupported argument", "│ ", "│   on lambda_functions.tf line 14, in module \"lambda_function\":",
           '│   14:   description = "Agent persona"', "│ ",
           '│ An argument named "description" is not expected here.', "╵"]),
      start=160, every=240, surface="build"),
    S("terraform-missing-argument", "terraform-missing-argument", "the sns_topic module misses name",
      _tf(["╷", "│ Error: Missing required argument", "│ ", '│   on sns.tf line 3, in module "sns_topic":',
           '│    3: module "sns_topic" {', "│ ",
           '│ The argument "name" is required, but no definition was found.', "╵"]),
      start=165, every=240, surface="build"),
    S("cdk-bootstrap-required", "cdk-bootstrap-required", "deploying to a fresh account",
      _cdk([" ❌  KiroWorkerCore failed: Error: This stack uses assets, so the toolkit stack must be deployed to "
            f"the environment (Run \"cdk bootstrap aws://{w.ACCOUNT}/{w.REGION}\")"]), start=175, every=240,
      surface="build"),
    S("npm-install-eacces", "npm-install-eacces", "a global npm install in the build image",
      _cdk(["npm ERR! code EACCES", "npm ERR! syscall access", "npm ERR! path /usr/local/lib/node_modules",
            "npm ERR! errno -13",
            "npm ERR! Error: EACCES: permission denied, access '/usr/local/lib/node_modules'"]),
      start=180, every=240, surface="build"),
    S("cdk-typescript-compile", "cdk-typescript-compile", "a refactor breaks the CDK app",
      _cdk(["lib/stacks/core-infrastructure-stack.ts:12:31 - error TS2304: Cannot find name 'Stack'.",
            "Error: Compilation failed"]), start=190, every=240, surface="build"),
    S("cdk-version-mismatch", "cdk-version-mismatch", "the CLI is older than aws-cdk-lib",
      _cdk(["This CDK CLI is not compatible with the CDK library used by your application. Please upgrade "
            "the CLI to the latest version.",
            "(Cloud assembly schema version mismatch: Maximum schema version supported is 36.0.0, but found 38.0.0)"]),
      start=195, every=240, surface="build"),
    S("codebuild-project-not-found", "codebuild-project-not-found", "a stale config names kiro-worker-test-build",
      _poller_error([f"ERROR\tFailed to start build: ResourceNotFoundException: Project cannot be found: "
                     f"arn:aws:codebuild:{w.REGION}:{w.ACCOUNT}:project/kiro-worker-test-build",
                     "ERROR\tProject not found: kiro-worker-test-build"]), start=200, every=240),
    S("secret-not-found", "secret-not-found", "a branch of the worker reads kiro-worker-test-webhook-secret",
      _poller_error(["ERROR\tResourceNotFoundException: Secrets Manager can't find the specified secret.",
                     "ERROR\tSecret not found: kiro-worker-test-webhook-secret"]), start=205, every=240),
    S("ssm-parameter-not-found", "ssm-parameter-not-found", "the worker is started with the staging stage's config name",
      _poller_error(["ERROR\tGetParameterError: An error occurred (ParameterNotFound) when calling the GetParameter "
                     f"operation: Parameter {w.STAGING_PROJECT_CONFIG} not found."]), start=207, every=240),
    S("github-rate-limit", "github-rate-limit", "a burst of GraphQL calls",
      _poller_error(['ERROR\tHttpError: {"message":"API rate limit exceeded for user ID 1234567.",'
                     '"documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api'
                     '#rate-limiting"}', "WARN\tx-ratelimit-remaining: 0, resets in 2714s"]), start=210, every=180),
    S("git-branch-not-found", "git-branch-not-found", "a work item names a branch that was never pushed",
      _kiro_build("FAILED", "CLIENT_ERROR: reference not found for primary source and source version "
                  "feature/tenant-billing", ["fatal: couldn't find remote ref feature/tenant-billing",
                                             "Branch 'feature/tenant-billing' not found in repository"]),
      start=215, every=240, surface="build"),
    S("spec-files-not-found", "spec-files-not-found", "a work item without Kiro specs",
      _kiro_build("FAILED", "Spec folder not found", [
          "Spec folder not found: .kiro/specs/feature-tenant-billing",
          "Error: ENOENT: no such file or directory, open '.kiro/specs/feature-tenant-billing/requirements.md'"]),
      start=220, every=240, surface="build"),
    S("github-pull-request-not-found", "github-pull-request-not-found", "the PR was closed before the build ended",
      _kiro_build("FAILED", "No pull request found", [
          "No pull request found for branch 'feature/tenant-billing'",
          'HttpError: Not Found - https://docs.github.com/rest/pulls/pulls#get-a-pull-request']),
      start=225, every=240, surface="build"),
)

BY_ID = {s.id: s for s in SCENARIOS}

# Lines a fixed world writes instead, so the console sees the recovery.
RECOVERY: dict[str, Emit] = {"dynamodb-lock-stuck": _lock_acquired}
