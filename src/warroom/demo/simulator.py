"""Writes the demo world's traffic and incidents, and reacts to fixes.

Each tick re-reads the world's state through ordinary AWS calls (so a fix made by the
console, the AWS CLI or a test is seen), plays every due scenario, adds background
traffic at `rate` events per second and flushes everything with batched PutLogEvents
and PutMetricData. `Simulator.tick(now)` runs one step synchronously (tests drive it
with a fake clock); `main()` runs it in its own child process, which exits when its
stdin closes so it cannot outlive the demo.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from warroom.demo import control
from warroom.demo import world as w
from warroom.demo.scenarios import RECOVERY, SCENARIOS, Scenario

MAX_BATCH = 5000          # PutLogEvents allows 10,000 events / 1 MB per call
STATE_EVERY = 2.0         # seconds between state reads when running live
HEALTHY_ROUTES = ("GET /health", "GET /agents", "POST /agents/{id}/chat")


@dataclass
class State:
    """A snapshot of the world as AWS reports it; what scenarios test to decide if they show."""

    functions: dict[str, dict[str, Any]] = field(default_factory=dict)
    concurrencies: dict[str, int | None] = field(default_factory=dict)
    provisioned_by_fn: dict[str, dict[str, Any]] = field(default_factory=dict)
    policies: dict[str, str] = field(default_factory=dict)
    role_policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    user_policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    log_groups: set[str] = field(default_factory=set)
    lock_present: bool = False
    lock_acquired: float = 0.0
    lock_owner: str = ""
    tf_lock_present: bool = False
    secrets: dict[str, str | None] = field(default_factory=dict)
    project_config: dict[str, Any] = field(default_factory=dict)
    key_id: str = ""
    key_state: str = "Enabled"
    http_api_id: str = ""
    websocket_api_id: str = ""
    http_routes: set[str] = field(default_factory=set)
    ws_deployed: bool = False
    stacks: dict[str, str | None] = field(default_factory=dict)
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    billing_modes: dict[str, str | None] = field(default_factory=dict)
    subscription_pending: bool = False
    subscription_resent: int = 0
    alarm_actions_enabled: bool = True

    def config(self, fn: str) -> dict[str, Any]:
        return self.functions.get(fn) or {}

    def timeout(self, fn: str) -> int:
        return int(self.config(fn).get("Timeout", 3))

    def memory(self, fn: str) -> int:
        return int(self.config(fn).get("MemorySize", 128))

    def runtime(self, fn: str) -> str:
        return str(self.config(fn).get("Runtime", ""))

    def tracing(self, fn: str) -> str:
        return str(self.config(fn).get("TracingConfig", {}).get("Mode", "PassThrough"))

    def env(self, fn: str) -> dict[str, str]:
        return dict(self.config(fn).get("Environment", {}).get("Variables", {}))

    def has_layer(self, fn: str) -> bool:
        return any(w.BOS_LAYER in layer.get("Arn", "") for layer in self.config(fn).get("Layers", []))

    def concurrency(self, fn: str) -> int | None:
        return self.concurrencies.get(fn)

    def provisioned(self, fn: str) -> bool:
        return any(v.get("AllocatedProvisionedConcurrentExecutions", 0) > 0
                   for v in self.provisioned_by_fn.get(fn, {}).values())

    def function_policy(self, fn: str) -> str:
        return self.policies.get(fn, "")

    def role_policy(self, role: str) -> list[dict[str, Any]]:
        return self.role_policies.get(role, [])

    def user_policy(self, user: str) -> list[dict[str, Any]]:
        return self.user_policies.get(user, [])

    def secret(self, name: str) -> str | None:
        return self.secrets.get(name)

    def stack(self, name: str) -> str | None:
        return self.stacks.get(name)

    def project_timeout(self, name: str) -> int:
        return int(self.projects.get(name, {}).get("timeoutInMinutes") or 60)

    def buildspec(self, name: str) -> str:
        return str(self.projects.get(name, {}).get("source", {}).get("buildspec", ""))

    def billing(self, table: str) -> str | None:
        return self.billing_modes.get(table)


def read_state(client: Any, endpoint: str, world_ids: dict[str, str]) -> State:
    """Read everything scenarios depend on (about thirty cheap calls)."""
    st = State(http_api_id=world_ids.get("http_api_id", ""),
               websocket_api_id=world_ids.get("websocket_api_id", ""))
    lam = client("lambda")
    for fn in w.FUNCTIONS:
        try:
            st.functions[fn] = lam.get_function_configuration(FunctionName=fn)
            st.concurrencies[fn] = lam.get_function_concurrency(FunctionName=fn).get(
                "ReservedConcurrentExecutions")
        except lam.exceptions.ResourceNotFoundException:
            continue
    for fn in (w.AGENT_PERSONA,):
        try:
            st.policies[fn] = lam.get_policy(FunctionName=fn)["Policy"]
        except lam.exceptions.ResourceNotFoundException:
            st.policies[fn] = ""
    st.provisioned_by_fn[w.API_HANDLER] = control.post(endpoint, "provisioned", function=w.API_HANDLER)
    iam = client("iam")
    # Inline policies only: they are what the playbooks' fixes add (put-role-policy).
    for role in (w.BOS_ROLE, w.KIRO_POLLER_ROLE):
        st.role_policies[role] = [_doc(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
                                  for name in iam.list_role_policies(RoleName=role)["PolicyNames"]]
    st.user_policies[w.DEPLOYER_USER] = [
        _doc(iam.get_user_policy(UserName=w.DEPLOYER_USER, PolicyName=name)["PolicyDocument"])
        for name in iam.list_user_policies(UserName=w.DEPLOYER_USER)["PolicyNames"]]
    logs = client("logs")
    st.log_groups = {g["logGroupName"] for page in logs.get_paginator("describe_log_groups").paginate(
        logGroupNamePrefix="/aws/lambda/") for g in page["logGroups"]}
    ddb = client("dynamodb")
    try:
        item = ddb.get_item(TableName=w.LOCKS_TABLE, Key={"lockKey": {"S": w.LOCK_KEY}}, ConsistentRead=True).get("Item")
        st.billing_modes[w.LOCKS_TABLE] = ddb.describe_table(TableName=w.LOCKS_TABLE)["Table"].get(
            "BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    except ddb.exceptions.ResourceNotFoundException:
        item = None
        st.billing_modes[w.LOCKS_TABLE] = None
    st.lock_present = item is not None
    if item:
        st.lock_acquired = float(item.get("acquiredAt", {}).get("N", 0))
        st.lock_owner = item.get("owner", {}).get("S", "")
    try:
        st.tf_lock_present = ddb.scan(TableName=w.TF_LOCK_TABLE, Limit=5).get("Count", 0) > 0
    except ddb.exceptions.ResourceNotFoundException:
        st.tf_lock_present = False
    sm = client("secretsmanager")
    for name in (w.GITHUB_TOKEN, w.GIT_CREDENTIALS):
        try:
            st.secrets[name] = sm.get_secret_value(SecretId=name).get("SecretString")
        except sm.exceptions.ResourceNotFoundException:
            st.secrets[name] = None
    try:
        st.project_config = json.loads(client("ssm").get_parameter(Name=w.PROJECT_CONFIG)["Parameter"]["Value"])
    except Exception:  # noqa: BLE001 - a missing or garbled parameter is a state like any other
        st.project_config = {}
    kms = client("kms")
    key = kms.describe_key(KeyId=w.BOS_KEY_ALIAS)["KeyMetadata"]
    st.key_id, st.key_state = key["KeyId"], key.get("KeyState", "Enabled")
    gw = client("apigatewayv2")
    if st.http_api_id:
        st.http_routes = {r["RouteKey"] for r in gw.get_routes(ApiId=st.http_api_id)["Items"]}
    if st.websocket_api_id:
        st.ws_deployed = bool(control.post(endpoint, "deployments", api_id=st.websocket_api_id)["items"])
    for stack in (w.CORE_STACK, w.MONITORING_STACK):
        st.stacks[stack] = control.post(endpoint, "stack_status", stack=stack)["status"]
    for project in client("codebuild").batch_get_projects(names=[w.KIRO_PROJECT])["projects"]:
        st.projects[project["name"]] = project
    sub = control.post(endpoint, "subscription_state", topic_arn=world_ids.get("kiro_topic_arn", ""),
                       endpoint=w.ONCALL_EMAIL)
    st.subscription_pending, st.subscription_resent = sub["pending"], sub["resent"]
    alarms = client("cloudwatch").describe_alarms(AlarmNames=[w.BUILD_FAILURES_ALARM])["MetricAlarms"]
    st.alarm_actions_enabled = bool(alarms and alarms[0].get("ActionsEnabled"))
    return st


def _doc(document: Any) -> dict[str, Any]:
    if isinstance(document, dict):
        return document
    try:
        parsed = json.loads(document)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


class Emitter:
    """What scenarios write through: log lines, invocations, access logs, builds, metrics."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.rng = sim.rng
        self.now = sim.now
        self.state = sim.state

    # identifiers and times
    def rid(self) -> str:
        return str(_uuid(self.rng))

    def hexid(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def iso(self, at: float | None = None) -> str:
        moment = dt.datetime.fromtimestamp(self.now if at is None else at, dt.timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    def log(self, group: str, stream: str, message: str, offset_ms: float = 0.0) -> None:
        self.sim.add_event(group, stream, int(self.now * 1000 + offset_ms), message)

    def metric(self, namespace: str, name: str, dims: dict[str, str], value: float, unit: str = "Count") -> None:
        self.sim.add_metric(namespace, name, dims, value, unit)

    def invocation(self, fn: str, lines: list[str], duration_ms: float, used_mb: int | None = None,
                   timed_out: bool = False, oom: bool = False, init_ms: float | None = None,
                   error: bool = False, node: bool = False) -> None:
        """One Lambda invocation: START, the handler's lines, END, REPORT (as the runtime writes them)."""
        st = self.state
        if not st.config(fn):
            return
        group = f"/aws/lambda/{fn}"
        if group not in st.log_groups:  # Lambda cannot write without its log group
            self.sim.count_invocation(fn, duration_ms, error or timed_out or oom)
            return
        stream = self.sim.stream_for(fn)
        rid = self.rid()
        memory = st.memory(fn)
        used = memory if oom else min(used_mb or 64, memory)
        t = 0.0
        self.log(group, stream, f"START RequestId: {rid} Version: $LATEST", t)
        for line in lines:
            t += 1.0
            text = line.replace("{rid}", rid)
            if not node and not text.startswith(("[", "20")) and "\t" not in text:
                text = f"[INFO]\t{self.iso()}\t{rid}\t{text}"
            elif not node and text.startswith("["):
                level, _, rest = text.partition(" ")
                text = f"{level}\t{self.iso()}\t{rid}\t{rest}"
            self.log(group, stream, text, t)
        end = max(t + 1, min(duration_ms, 15_000))
        if timed_out:
            self.log(group, stream, f"{self.iso(self.now + duration_ms / 1000)} {rid} Task timed out after "
                                    f"{duration_ms / 1000:.2f} seconds", end)
        if oom:
            self.log(group, stream, f"RequestId: {rid} Error: Runtime exited with error: signal: killed\n"
                                    "Runtime.ExitError", end)
        self.log(group, stream, f"END RequestId: {rid}", end + 0.5)
        report = (f"REPORT RequestId: {rid}\tDuration: {duration_ms:.2f} ms\tBilled Duration: "
                  f"{int(duration_ms) + 1} ms\tMemory Size: {memory} MB\tMax Memory Used: {used} MB\t")
        if init_ms:
            report += f"Init Duration: {init_ms:.2f} ms\t"
        if timed_out:
            report += "Status: timeout"
        elif oom:
            report += "Status: error\tError Type: Runtime.OutOfMemory"
        if st.tracing(fn) == "Active":
            report += f"\nXRAY TraceId: 1-{int(self.now):08x}-{self.hexid(24)}\tSegmentId: {self.hexid(16)}\tSampled: true"
        self.log(group, stream, report, end + 0.6)
        self.sim.count_invocation(fn, duration_ms, error or timed_out or oom)

    def access(self, api: str, route: str, status: int, latency: int, integration: int | None = None,
               error: str = "-", path: str | None = None) -> None:
        """One line of an HTTP API access log in the JSON format API Gateway users configure."""
        method = route.split(" ")[0] if route != "-" else "GET"
        record = {
            "requestId": f"{self.hexid(6).upper()}{self.hexid(8)}=", "ip": f"203.0.113.{self.rng.randint(2, 250)}",
            "requestTime": dt.datetime.fromtimestamp(self.now, dt.timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "httpMethod": method, "routeKey": route, "path": path or _path(route, self.rng),
            "status": str(status), "protocol": "HTTP/1.1", "responseLength": str(self.rng.randint(20, 4000)),
            "responseLatency": str(latency),
            "integrationLatency": str(integration if integration is not None else max(latency - 3, 0))
            if route != "-" else "-",
            "integrationErrorMessage": error,
        }
        self.log(f"/aws/apigateway/{api}", "dev", json.dumps(record, separators=(",", ":")))
        api_id = self.state.http_api_id
        self.metric("AWS/ApiGateway", "Count", {"ApiId": api_id}, 1)
        self.metric("AWS/ApiGateway", "Latency", {"ApiId": api_id}, latency, "Milliseconds")
        if 400 <= status < 500:
            self.metric("AWS/ApiGateway", "4xx", {"ApiId": api_id}, 1)
        elif status >= 500:
            self.metric("AWS/ApiGateway", "5xx", {"ApiId": api_id}, 1)

    def ws_access(self, route: str, status: int, error: str = "-") -> None:
        record = {"requestId": f"{self.hexid(6).upper()}{self.hexid(8)}=", "eventType": "CONNECT",
                  "routeKey": route, "status": str(status), "connectionId": f"{self.hexid(10)}=",
                  "error": error}
        self.log(f"/aws/apigateway/{w.WEBSOCKET_API}", "dev", json.dumps(record, separators=(",", ":")))

    def build(self, project: str, status: str, failed_phase: str, message: str, lines: list[str],
              minutes: float | None = None, status_code: str = "COMMAND_EXECUTION_ERROR") -> None:
        """A finished CodeBuild build: its log stream and a record BatchGetBuilds returns."""
        build_uuid = str(_uuid(self.rng))
        group = f"/aws/codebuild/{project}"
        ts = lambda: dt.datetime.fromtimestamp(self.now, dt.timezone.utc).strftime("%Y/%m/%d %H:%M:%S.%f")  # noqa: E731
        preamble = [
            "[Container] {ts} Running on CodeBuild On-demand",
            "[Container] {ts} Waiting for agent ping", "[Container] {ts} Waiting for DOWNLOAD_SOURCE to complete",
            "[Container] {ts} Phase is DOWNLOAD_SOURCE",
            "[Container] {ts} CODEBUILD_SRC_DIR=/codebuild/output/src2740/src",
            "[Container] {ts} Entering phase INSTALL", "[Container] {ts} Entering phase BUILD"]
        if failed_phase in ("DOWNLOAD_SOURCE", "QUEUED", "PROVISIONING"):
            preamble = preamble[:4]
        for i, line in enumerate([*preamble, *lines]):
            self.log(group, build_uuid, line.replace("{ts}", ts()), i)
        self.sim.post_build(project, f"{project}:{build_uuid}", status, failed_phase, message,
                            minutes if minutes is not None else self.rng.uniform(2, 9), status_code)
        self.metric("AWS/CodeBuild", "Builds", {"ProjectName": project}, 1)
        self.metric("AWS/CodeBuild", "FailedBuilds" if status != "SUCCEEDED" else "SucceededBuilds",
                    {"ProjectName": project}, 1)
        self.metric("AWS/CodeBuild", "Duration", {"ProjectName": project},
                    (minutes or 5) * 60, "Seconds")


def _uuid(rng: random.Random) -> Any:
    import uuid

    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _path(route: str, rng: random.Random) -> str:
    _, _, template = route.partition(" ")
    return "/dev" + template.replace("{id}", f"agt-{rng.randint(1, 99)}")


class Simulator:
    """The world's clock: call `tick()` (tests) or `run()` (the demo's child process)."""

    def __init__(self, endpoint: str, seed: int = 0, rate: float = 20.0, start: float | None = None,
                 world_ids: dict[str, str] | None = None, scenarios: tuple[Scenario, ...] = SCENARIOS) -> None:
        self.endpoint = endpoint
        self.client = w.clients(endpoint)
        self.rng = random.Random(seed)
        self.rate = rate
        self.t0 = time.time() if start is None else start
        self.now = self.t0
        self.last = self.t0
        self.world_ids = world_ids or discover_ids(self.client)
        # A per-seed jitter on each start keeps the order deterministic for a seed but not fixed.
        self.scenarios = scenarios
        self.starts = {s.id: s.start + (self.rng.uniform(0, 5) if s.start else 0) for s in scenarios}
        self.last_shown: dict[str, float] = {}
        self.broken: set[str] = set()
        self.recovered: set[str] = set()
        self.shown: dict[str, int] = defaultdict(int)   # scenario id -> occurrences written
        self.state = State()
        self._state_at = -1e18
        self._carry = 0.0
        self._events: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        self._metrics: list[dict[str, Any]] = []
        self._streams: dict[str, str] = {}
        self._invocations: dict[str, list[float]] = defaultdict(list)
        self._errors: dict[str, int] = defaultdict(int)
        self._created_streams: set[tuple[str, str]] = set()
        self.written = 0

    # -- the step -------------------------------------------------------------------------

    def tick(self, now: float | None = None, refresh: bool = True) -> dict[str, int]:
        """One step at `now`: read state, apply due breaks, play due scenarios, add traffic, flush."""
        self.now = time.time() if now is None else now
        elapsed = self.now - self.t0
        if refresh or self.now - self._state_at >= STATE_EVERY:
            self.state = read_state(self.client, self.endpoint, self.world_ids)
            self._state_at = self.now
        for scenario in self.scenarios:
            if scenario.breaks and scenario.id not in self.broken and elapsed >= self.starts[scenario.id]:
                self.broken.add(scenario.id)
                scenario.breaks(self.client)
                self.state = read_state(self.client, self.endpoint, self.world_ids)
        self._react()
        played: dict[str, int] = {}
        em = Emitter(self)
        for scenario in self.scenarios:
            if self._due(scenario, elapsed):
                self.last_shown[scenario.id] = elapsed
                if scenario.emit is not None:
                    scenario.emit(em, self.state)
                self.shown[scenario.id] += 1
                played[scenario.id] = 1
        for sid, recover in RECOVERY.items():
            scenario = next(s for s in self.scenarios if s.id == sid)
            if scenario.active and not scenario.active(self.state) and sid not in self.recovered:
                self.recovered.add(sid)
                recover(em, self.state)
        self._background(em, max(0.0, min(self.now - self.last, 5.0)))
        self.last = self.now
        self.flush()
        return played

    def _due(self, scenario: Scenario, elapsed: float) -> bool:
        if elapsed < self.starts[scenario.id]:
            return False
        if scenario.active is not None and not scenario.active(self.state):
            return False
        last = self.last_shown.get(scenario.id)
        return last is None or elapsed - last >= scenario.every

    def active_scenarios(self) -> list[str]:
        """Reactive scenarios whose broken state holds now (started or not)."""
        return [s.id for s in self.scenarios if s.active is not None and s.active(self.state)]

    def _react(self) -> None:
        """World-side consequences of fixes that the scenarios themselves do not write."""
        st = self.state
        if st.stack(w.CORE_STACK) is None:  # deleted: the pipeline's retry deploys it cleanly
            w.create_stack(self.client, w.CORE_STACK)
            self.state.stacks[w.CORE_STACK] = "CREATE_COMPLETE"
        if st.subscription_pending and st.subscription_resent > 0:
            # The resent confirmation email arrives and the on-call clicks the link.
            control.post(self.endpoint, "subscription_pending", topic_arn=self.world_ids["kiro_topic_arn"],
                         endpoint=w.ONCALL_EMAIL, pending=False)
            self.state.subscription_pending = False

    # -- background traffic ----------------------------------------------------------------

    def _background(self, em: Emitter, seconds: float) -> None:
        wanted = self.rate * seconds + self._carry
        count = int(wanted)
        self._carry = wanted - count
        healthy = [fn for fn in (w.AGENT_PERSONA, w.API_HANDLER, w.WEBSOCKET_HANDLER, w.POLLER, w.EVENT_PROCESSOR)
                   if self.state.config(fn)]
        produced = 0
        while produced < count:
            kind = self.rng.random()
            if kind < 0.55 and healthy:
                fn = self.rng.choice(healthy)
                spec = w.FUNCTIONS[fn]
                node = spec["runtime"].startswith("node")
                line = (f"{em.iso()}\t{{rid}}\tINFO\tPolled project: {self.rng.randint(0, 4)} items ready"
                        if node else f"[INFO] handled {self.rng.choice(HEALTHY_ROUTES)} in "
                                     f"{self.rng.randint(8, 90)} ms")
                duration = min(spec["duration_ms"], self.state.timeout(fn) * 1000 - 50) * self.rng.uniform(0.3, 0.9) \
                    if fn == w.AGENT_PERSONA else spec["duration_ms"] * self.rng.uniform(0.5, 1.4)
                em.invocation(fn, [line], duration_ms=max(duration, 1.0),
                              used_mb=min(spec["used_mb"] - 20, self.state.memory(fn) - 8), node=node)
                produced += 5
            elif kind < 0.9:
                route = self.rng.choice(HEALTHY_ROUTES)
                em.access(w.HTTP_API, route, 200, self.rng.randint(12, 180))
                produced += 1
            else:
                phase = self.rng.choice(("INSTALL", "PRE_BUILD", "BUILD", "POST_BUILD"))
                em.log(f"/aws/codebuild/{w.KIRO_PROJECT}", self.sim_build_stream(),
                       f"[Container] {dt.datetime.fromtimestamp(self.now, dt.timezone.utc):%Y/%m/%d %H:%M:%S.%f} "
                       f"Entering phase {phase}")
                produced += 1

    def sim_build_stream(self) -> str:
        return self._streams.setdefault("build", str(_uuid(self.rng)))

    def stream_for(self, fn: str) -> str:
        if fn not in self._streams:
            day = dt.datetime.fromtimestamp(self.t0, dt.timezone.utc).strftime("%Y/%m/%d")
            self._streams[fn] = f"{day}/[$LATEST]{''.join(self.rng.choice('0123456789abcdef') for _ in range(32))}"
        return self._streams[fn]

    # -- buffers and flushing --------------------------------------------------------------

    def add_event(self, group: str, stream: str, timestamp: int, message: str) -> None:
        self._events[(group, stream)].append({"timestamp": timestamp, "message": message})

    def add_metric(self, namespace: str, name: str, dims: dict[str, str], value: float, unit: str) -> None:
        self._metrics.append({"Namespace": namespace, "MetricName": name, "Value": float(value), "Unit": unit,
                              "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                              "Timestamp": dt.datetime.fromtimestamp(self.now, dt.timezone.utc)})

    def count_invocation(self, fn: str, duration_ms: float, error: bool) -> None:
        self._invocations[fn].append(duration_ms)
        if error:
            self._errors[fn] += 1

    def post_build(self, project: str, build_id: str, status: str, failed_phase: str, message: str,
                   minutes: float, status_code: str) -> None:
        control.post(self.endpoint, "build", project=project, build_id=build_id, status=status,
                     failed_phase=None if status == "SUCCEEDED" else failed_phase, message=message,
                     minutes=minutes, log_stream=build_id.split(":", 1)[1], status_code=status_code,
                     number=self.rng.randint(100, 999))

    def flush(self) -> None:
        logs = self.client("logs")
        for fn, durations in self._invocations.items():
            dims = {"FunctionName": fn}
            self.add_metric("AWS/Lambda", "Invocations", dims, len(durations), "Count")
            self.add_metric("AWS/Lambda", "Duration", dims, max(durations), "Milliseconds")
            self.add_metric("AWS/Lambda", "Errors", dims, self._errors.get(fn, 0), "Count")
        self._invocations.clear()
        self._errors.clear()
        events, self._events = self._events, defaultdict(list)
        for (group, stream), batch in events.items():
            if group not in self.state.log_groups and group.startswith("/aws/lambda/"):
                continue
            if (group, stream) not in self._created_streams:
                try:
                    logs.create_log_stream(logGroupName=group, logStreamName=stream)
                except logs.exceptions.ResourceAlreadyExistsException:
                    pass
                except logs.exceptions.ResourceNotFoundException:
                    continue
                self._created_streams.add((group, stream))
            batch.sort(key=lambda e: e["timestamp"])
            for i in range(0, len(batch), MAX_BATCH):
                try:
                    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch[i:i + MAX_BATCH])
                except logs.exceptions.ResourceNotFoundException:  # deleted under us
                    self._created_streams.discard((group, stream))
                    break
                self.written += len(batch[i:i + MAX_BATCH])
        metrics, self._metrics = self._metrics, []
        cw = self.client("cloudwatch")
        by_ns: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for datum in metrics:
            by_ns[datum.pop("Namespace")].append(datum)
        for namespace, data in by_ns.items():
            for i in range(0, len(data), 500):
                cw.put_metric_data(Namespace=namespace, MetricData=data[i:i + 500])

    # -- live loop -------------------------------------------------------------------------

    def run(self, stop: threading.Event, interval: float = 1.0) -> None:
        """Tick every `interval` seconds until `stop` is set; errors are reported, not fatal."""
        while not stop.is_set():
            began = time.monotonic()
            try:
                self.tick(refresh=False)
            except Exception as exc:  # noqa: BLE001 - the world keeps going; the server may be busy
                print(f"simulator: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            stop.wait(max(0.05, interval - (time.monotonic() - began)))


def discover_ids(client: Any) -> dict[str, str]:
    """Ids the simulator needs, found by name (so a simulator can attach to any seeded world)."""
    ids: dict[str, str] = {}
    for api in client("apigatewayv2").get_apis()["Items"]:
        if api["Name"] == w.HTTP_API:
            ids["http_api_id"] = api["ApiId"]
        elif api["Name"] == w.WEBSOCKET_API:
            ids["websocket_api_id"] = api["ApiId"]
    for topic in client("sns").list_topics()["Topics"]:
        if topic["TopicArn"].endswith(":" + w.KIRO_TOPIC):
            ids["kiro_topic_arn"] = topic["TopicArn"]
    return ids


def _watch_parent(stop: threading.Event) -> None:
    sys.stdin.read()
    stop.set()


def main(argv: list[str] | None = None) -> None:
    """Child-process entry: simulate the world at ENDPOINT until stdin closes."""
    parser = argparse.ArgumentParser(description="warroom demo simulator (internal)")
    parser.add_argument("--endpoint", required=True,
                        help="the offline account's URL, or - to read it from stdin's first line "
                             "(the process is then started while the account is still seeded)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rate", type=float, default=20.0)
    args = parser.parse_args(argv)
    endpoint = sys.stdin.readline().strip() if args.endpoint == "-" else args.endpoint
    if not endpoint:
        return  # the parent went away before the account was up
    stop = threading.Event()
    threading.Thread(target=_watch_parent, args=(stop,), daemon=True).start()
    sim = Simulator(endpoint, seed=args.seed, rate=args.rate)
    print("ready", flush=True)
    sim.run(stop)
    import os

    os._exit(0)


if __name__ == "__main__":
    main()
