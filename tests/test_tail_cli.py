"""`warroom tail` as a user runs it: a subprocess against moto."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from typing import IO, Any

import pytest

from tests.demo_helpers import IGNORING_SIGINT

from warroom.aws.session import AwsOptions, AwsSession
from warroom.demo.server import MotoServer

GROUP = "/aws/lambda/bos-dev-agent"
STREAM = "2024/01/01/[$LATEST]0123456789abcdef"


def warroom(moto: MotoServer | None, *args: str, env: dict[str, str] | None = None,
            endpoint: str | None = None) -> subprocess.CompletedProcess[str]:
    where = ["--endpoint-url", endpoint or (moto.endpoint if moto else ""), "--region", "us-east-1"]
    return subprocess.run([sys.executable, "-m", "warroom", *where, "tail", *args],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def seed(moto: MotoServer) -> tuple[Any, int]:
    logs = AwsSession(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1")).sync_client("logs")
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName=STREAM)
    t = int(time.time() * 1000) - 30_000
    logs.put_log_events(logGroupName=GROUP, logStreamName=STREAM, logEvents=[
        {"timestamp": t, "message": "START RequestId: 42\n"},
        {"timestamp": t + 1, "message": "2024-05-01T10:15:32Z 42 Task timed out after 30.00 seconds\n"},
        {"timestamp": t + 2, "message": "evil \x1b]0;pwned\x07\x1b[2J key AKIAABCDEFGHIJKLMNOP"},
    ])
    return logs, t


def test_no_follow_prints_events_with_the_symptom_named(moto: MotoServer) -> None:
    seed(moto)
    result = warroom(moto, "--no-follow", "--since", "5m", "bos-dev", env={"NO_COLOR": "1"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "START RequestId: 42" in lines[0] and "bos-dev-agent" in lines[0]
    assert "Task timed out after 30.00 seconds" in lines[1]
    assert lines[2].strip() == "→ lambda-timeout: Lambda function timed out"
    assert "\x1b" not in result.stdout  # no colour off a TTY, and the log's escapes are inert
    assert "\\x1b]0;pwned\\x07" in lines[3]
    assert "AKIAABCDEFGHIJKLMNOP" not in result.stdout and "AKIA****************" in lines[3]


def test_colour_highlights_the_symptom_span_only_when_asked(moto: MotoServer) -> None:
    seed(moto)
    result = warroom(moto, "--no-follow", "--since", "5m", GROUP, env={"FORCE_COLOR": "1"})
    assert result.returncode == 0, result.stderr
    assert "\x1b[1;31mTask timed out after 30.00 seconds\x1b[0m" in result.stdout
    assert "\x1b]0;pwned" not in result.stdout and "\x1b[2J" not in result.stdout


def test_json_is_one_object_per_event_with_matches_as_scan_gives(moto: MotoServer) -> None:
    seed(moto)
    result = warroom(moto, "--json", "--no-follow", "--since", "5m", "/aws/lambda/bos-*")
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(objects) == 3
    assert all(set(o) == {"group", "stream", "timestamp", "eventId", "message", "matches"} for o in objects)
    assert all(o["group"] == GROUP and o["stream"] == STREAM for o in objects)
    assert len({o["eventId"] for o in objects}) == 3
    timeout = objects[1]
    assert timeout["matches"][0]["playbook"] == "lambda-timeout"
    assert timeout["matches"][0]["captures"] == {"timeout": "30.00"}
    span = timeout["matches"][0]
    assert timeout["message"][span["start"]:span["end"]] == "Task timed out after 30.00 seconds"
    assert "AKIAABCDEFGHIJKLMNOP" not in result.stdout
    assert "\x1b" not in result.stdout


def test_since_limits_the_backfill(moto: MotoServer) -> None:
    seed(moto)
    result = warroom(moto, "--json", "--no-follow", "--since", "10s", GROUP)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


def test_a_group_matching_nothing_without_follow_is_an_error(moto: MotoServer) -> None:
    result = warroom(moto, "--no-follow", "/aws/lambda/nothing")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(
        "warroom: no log group matches '/aws/lambda/nothing'")
    assert "Traceback" not in result.stderr


def test_bad_since_is_one_line(moto: MotoServer) -> None:
    result = warroom(moto, "--since", "yesterday-ish", GROUP)
    assert result.returncode == 2
    assert "--since 'yesterday-ish'" in result.stderr and "Traceback" not in result.stderr


def test_aws_setup_errors_are_one_line_exit_2(moto: MotoServer) -> None:
    unreachable = warroom(None, GROUP, endpoint="http://127.0.0.1:9")
    no_region = subprocess.run(
        [sys.executable, "-m", "warroom", "--endpoint-url", moto.endpoint, "tail", GROUP],
        capture_output=True, text=True, timeout=60,
        env={k: v for k, v in os.environ.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")})
    no_credentials = subprocess.run(
        [sys.executable, "-m", "warroom", "--endpoint-url", moto.endpoint, "--region", "us-east-1",
         "tail", GROUP], capture_output=True, text=True, timeout=60,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("AWS_ACCESS")
                and not k.startswith("AWS_SECRET") and k != "AWS_SESSION_TOKEN"},
             "AWS_EC2_METADATA_DISABLED": "true"})
    for result, says in [(unreachable, "cannot reach http://127.0.0.1:9"),
                         (no_region, "no AWS region set"), (no_credentials, "no AWS credentials")]:
        assert result.returncode == 2, result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("warroom: ") and says in last, result.stderr
        assert "Traceback" not in result.stderr


def _lines(stream: IO[str]) -> queue.Queue[str]:
    found: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            found.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return found


def _wait_line(lines: queue.Queue[str], needle: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if needle in line:
            return line
    raise AssertionError(f"no line with {needle!r} within {timeout}s")


@pytest.mark.parametrize("started", ["in the foreground", "as a background job"])
def test_follow_waits_for_a_missing_group_then_ctrl_c_exits_0(moto: MotoServer, started: str) -> None:
    """SIGINT stops the tail however it was started (a background job inherits it ignored)."""
    prefix = IGNORING_SIGINT if started == "as a background job" else []
    process = subprocess.Popen(
        [sys.executable, *prefix, "-m", "warroom", "--endpoint-url", moto.endpoint, "--region", "us-east-1",
         "tail", "--json", "--rediscover-every", "0.2", "--poll-interval", "0.1", "bos-dev"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout and process.stderr
        out, err = _lines(process.stdout), _lines(process.stderr)
        _wait_line(err, "no log group matches 'bos-dev' yet; waiting")
        logs, _ = seed(moto)  # events 30 s old: before the tail started, so not shown
        _wait_line(err, f"following new log group {GROUP}")
        logs.put_log_events(logGroupName=GROUP, logStreamName=STREAM, logEvents=[
            {"timestamp": int(time.time() * 1000) + 1000, "message": "fresh line"}])
        got = json.loads(_wait_line(out, "fresh line"))
        assert got["group"] == GROUP and got["message"] == "fresh line"
        process.send_signal(signal.SIGINT)
        # A bound against hanging, not a speed check: a loaded machine may need a while.
        assert process.wait(timeout=60) == 0
        assert out.empty()  # nothing before the tail started was printed
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _follow(moto: MotoServer, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "warroom", "--endpoint-url", moto.endpoint, "--region", "us-east-1",
         "tail", "--json", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_tail_says_when_its_endpoint_stops_answering_and_when_it_answers_again(moto: MotoServer) -> None:
    logs, _ = seed(moto)
    started = moto.live_tail(update_seconds=0.2)["started"]
    process = _follow(moto, GROUP)
    try:
        assert process.stdout and process.stderr
        out, err = _lines(process.stdout), _lines(process.stderr)
        wait_for_session(moto, started)
        # Every new call of the tail's: the connection closed unanswered (our writes still go in).
        moto.faults(drop=1.0, targets=["FilterLogEvents", "StartLiveTail", "DescribeLogGroups"])
        moto.live_tail(drop=True)  # and the open session ends
        _wait_line(err, f"{moto.endpoint} is not answering; retrying", timeout=60)
        logs.put_log_events(logGroupName=GROUP, logStreamName=STREAM, logEvents=[
            {"timestamp": int(time.time() * 1000), "message": "written while it was silent"}])
        moto.faults()
        _wait_line(err, f"{moto.endpoint} answers again", timeout=60)
        assert json.loads(_wait_line(out, "written while it was silent", timeout=60))["group"] == GROUP
    finally:
        moto.faults()
        moto.live_tail(update_seconds=1.0)
        _stop(process)


def wait_for_session(moto: MotoServer, started_before: int, timeout: float = 60.0) -> None:
    """Until a Live Tail session started after `started_before` (not one a previous test's
    tail left open) is open."""
    deadline = time.monotonic() + timeout
    while (state := moto.live_tail())["started"] <= started_before or not state["sessions"]:
        assert time.monotonic() < deadline, "no Live Tail session started"
        time.sleep(0.05)  # polling the server's state, not synchronising on time


def test_live_tail_refused_is_said_once_and_lines_still_come(moto: MotoServer) -> None:
    logs, _ = seed(moto)
    moto.faults(deny=["logs:StartLiveTail"])
    process = _follow(moto, "--poll-interval", "0.1", GROUP)
    try:
        assert process.stdout and process.stderr
        out, err = _lines(process.stdout), _lines(process.stderr)
        line = _wait_line(err, "StartLiveTail refused")
        assert "AccessDeniedException" in line and "polling FilterLogEvents" in line
        logs.put_log_events(logGroupName=GROUP, logStreamName=STREAM, logEvents=[
            {"timestamp": int(time.time() * 1000), "message": "polled line"}])
        _wait_line(out, "polled line")
    finally:
        moto.faults()
        _stop(process)
    rest = []
    while not err.empty():
        rest.append(err.get())
    assert not any("StartLiveTail refused" in r for r in rest)


def test_since_backfill_prints_in_time_order_across_groups(moto: MotoServer) -> None:
    logs = AwsSession(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1")).sync_client("logs")
    t = int(time.time() * 1000) - 60_000
    groups = ["/aws/lambda/m-a", "/aws/lambda/m-b", "/aws/lambda/m-c"]
    for offset, group in enumerate(groups):
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")
        logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
            {"timestamp": t + 3 * i + offset, "message": f"{group} {i}"} for i in range(20)])
    for args in (("--no-follow",), ()):
        process = _follow(moto, "--since", "5m", "/aws/lambda/m-", *args)
        try:
            assert process.stdout
            out = _lines(process.stdout)
            got = [json.loads(_wait_line(out, "/aws/lambda/m-")) for _ in range(60)]
        finally:
            _stop(process)
        assert [o["timestamp"] for o in got] == [t + n for n in range(60)]
