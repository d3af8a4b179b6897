"""`warroom check` as a user runs it: a subprocess against moto, and every session error."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests import awsseed as seed
from warroom.demo.server import MotoServer

TRACING = seed.playbook_yaml("cli-tracing", "  - probe: tracing-off\n")
LOCKS = seed.playbook_yaml("cli-lock", (
    "  - probe: lock-expired\n    params: {table: cli-locks, ttl_attribute: expiresAt}\n"), service="dynamodb")


def warroom(*args: str, env: dict[str, str | None] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the CLI; `env` entries set to None are removed from the environment."""
    environment = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true", "NO_COLOR": "1"}
    for key, value in (env or {}).items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    return subprocess.run([sys.executable, "-m", "warroom", *args], capture_output=True, text=True,
                          env=environment, timeout=timeout, check=False)


@pytest.fixture
def playbooks(tmp_path: Path) -> Path:
    (tmp_path / "cli-tracing.yaml").write_text(TRACING)
    (tmp_path / "cli-lock.yaml").write_text(LOCKS)
    return tmp_path


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("warroom: skipped:")]
    assert len(lines) == 1 and lines[0].startswith("warroom: "), result.stderr
    assert result.stdout == ""
    for word in words:
        assert word in lines[0], lines[0]


def test_nothing_wrong_exits_0(moto: MotoServer, playbooks: Path) -> None:
    # A healthy function: traced, writing logs, invoked.
    seed.function(moto.endpoint, "cli-fine", tracing="Active")
    seed.log_stream(moto.endpoint, "/aws/lambda/cli-fine", "2024/05/01/[$LATEST]abc", ["START RequestId: 1"])
    seed.put_metric(moto.endpoint, "AWS/Lambda", "Invocations", "FunctionName", "cli-fine", [3])
    result = warroom("--endpoint-url", moto.endpoint, "--region", "us-east-1", "--playbooks", str(playbooks),
                     "check", "--prefix", "cli-")
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "no problems found on 2 resources" in result.stdout


def test_findings_exit_1_as_text_and_json(moto: MotoServer, playbooks: Path) -> None:
    seed.function(moto.endpoint, "cli-untraced")
    seed.function(moto.endpoint, "unrelated-untraced")
    ddb = seed.client(moto.endpoint, "dynamodb")
    ddb.create_table(TableName="cli-locks", KeySchema=[{"AttributeName": "lockKey", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "lockKey", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    ddb.put_item(TableName="cli-locks", Item={"lockKey": {"S": "job-\x1b[31mlock"},
                                              "expiresAt": {"N": str(int(time.time()) - 600)}})
    base = ["--endpoint-url", moto.endpoint, "--region", "us-east-1", "--playbooks", str(playbooks), "check",
            "--prefix", "cli-"]

    text = warroom(*base)
    assert text.returncode == 1, (text.stdout, text.stderr)
    assert "cli-tracing  cli-tracing title  [high]" in text.stdout
    assert "function cli-untraced" in text.stdout and "unrelated" not in text.stdout
    assert "expired 10 min ago" in text.stdout
    assert "\x1b" not in text.stdout  # the item's escape sequence is shown inert

    as_json = warroom(*base, "--json")
    assert as_json.returncode == 1, as_json.stderr
    findings = [json.loads(line) for line in as_json.stdout.splitlines()]
    mine = {(f["playbook"], f["resource"], f["kind"]) for f in findings if f["playbook"].startswith("cli-")}
    assert mine == {("cli-tracing", "cli-untraced", "probe"), ("cli-lock", "cli-locks", "probe")}
    assert all(set(f) == {"playbook", "resource", "resource_kind", "region", "evidence", "time", "kind",
                          "captures"} and f["region"] == "us-east-1" for f in findings)
    # Text and JSON report the same findings (the built-in playbooks add their own).
    summary = text.stdout.rstrip().splitlines()[-1]
    assert summary.startswith(f"{len(findings)} findings from ") and "on 3 resources" in summary


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_endpoint(playbooks: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = warroom("--endpoint-url", url, "--region", "us-east-1", "check")
    assert_one_line_error(result, "cannot reach", url)


def test_no_region(moto: MotoServer) -> None:
    env: dict[str, str | None] = {"AWS_REGION": None, "AWS_DEFAULT_REGION": None}
    result = warroom("--endpoint-url", moto.endpoint, "check", env=env)
    assert_one_line_error(result, "no AWS region", "--region")


def test_no_credentials(moto: MotoServer, tmp_path: Path) -> None:
    env: dict[str, str | None] = {
        "AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_SESSION_TOKEN": None,
        "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    result = warroom("--endpoint-url", moto.endpoint, "--region", "us-east-1", "check", env=env)
    assert_one_line_error(result, "no AWS credentials")


class _Rejecting(BaseHTTPRequestHandler):
    """Answers every AWS query-protocol call as AWS does for bad or expired credentials."""

    code = "InvalidClientTokenId"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = (f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
                f"<Type>Sender</Type><Code>{self.code}</Code><Message>The security token included "
                f"in the request is invalid.</Message></Error><RequestId>1</RequestId></ErrorResponse>").encode()
        self.send_response(403)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(params=["InvalidClientTokenId", "ExpiredToken"])
def rejecting_endpoint(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    handler = type("Handler", (_Rejecting,), {"code": request.param})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", request.param
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_rejected_credentials(rejecting_endpoint: tuple[str, str]) -> None:
    url, code = rejecting_endpoint
    result = warroom("--endpoint-url", url, "--region", "us-east-1", "check")
    expected = "expired" if code == "ExpiredToken" else "rejected the credentials"
    assert_one_line_error(result, code, expected)


async def test_checker_combines_every_source(moto: MotoServer) -> None:
    from warroom.aws.health import Checker
    from warroom.aws.session import AwsOptions, AwsSession

    catalog = seed.catalog_of(
        TRACING,
        seed.playbook_yaml("deploy-event", "  - pattern: 'User Initiated'\n", service="cloudformation"),
        seed.playbook_yaml("errors", (
            "  - metric: {namespace: AWS/Lambda, name: Errors, stat: Sum, dimension: FunctionName,\n"
            "             comparison: '>', threshold: 0, period: 60}\n")))
    seed.function(moto.endpoint, "chk-fn")
    seed.put_metric(moto.endpoint, "AWS/Lambda", "Errors", "FunctionName", "chk-fn", [2])
    seed.stack(moto.endpoint, "chk-stack")
    async with AwsSession(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1")) as session:
        checker = Checker(session, catalog, ["chk-"])
        first = await checker.run_once()
        second = await checker.run_once()  # the console calls it again and again
    got = {(f.playbook, f.resource, f.resource_kind, f.kind) for f in first.findings}
    assert got == {("cli-tracing", "chk-fn", "function", "probe"),
                   ("errors", "chk-fn", "function", "metric"),
                   ("deploy-event", "chk-stack", "stack", "log")}
    assert first.warnings == []
    assert {r.source for r in first.records} == {"cloudformation"}
    assert {(f.playbook, f.resource) for f in second.findings} == {(p, r) for p, r, _, _ in got}
