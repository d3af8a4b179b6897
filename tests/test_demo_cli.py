"""`warroom demo --serve` as a user runs it: endpoint first, symptoms visible, nothing left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.demo_helpers import alive, children_of, reap, wait_until

from warroom.demo.server import OFFLINE_ENV

# Dummy credentials, never real ones (module fixtures run outside the autouse env fixture).
ENV = {**{k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_ENDPOINT_URL")}, **OFFLINE_ENV}


def _serve(*extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "warroom", "demo", "--serve", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=ENV)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[subprocess.Popen[str], str, set[int]]]:
    process = _serve("--seed", "5", "--rate", "50")
    assert process.stdout is not None
    first = process.stdout.readline().strip()
    kids = children_of(process.pid)
    try:
        yield process, first, kids
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        reap(kids)


def test_first_line_is_the_endpoint(served: tuple[subprocess.Popen[str], str, set[int]]) -> None:
    _, first, kids = served
    assert first.startswith("endpoint=http://127.0.0.1:")
    assert len(kids) >= 2  # the moto server and the simulator


def test_tail_json_sees_the_timeout(served: tuple[subprocess.Popen[str], str, set[int]]) -> None:
    _, first, _ = served
    endpoint = first.split("=", 1)[1]

    def timed_out() -> bool:
        out = subprocess.run([sys.executable, "-m", "warroom", "--endpoint-url", endpoint, "--region", "us-east-1",
                              "tail", "/aws/lambda/bos-dev-agent-persona", "--json", "--no-follow", "--since", "10m"],
                             capture_output=True, text=True, env=ENV, timeout=60)
        records = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
        return any(m["playbook"] == "lambda-timeout" for r in records for m in r.get("matches", []))

    wait_until(timed_out, timeout=60, what="a lambda-timeout line in tail --json")


def test_sigterm_stops_everything() -> None:
    process = _serve("--rate", "0")
    assert process.stdout is not None
    assert process.stdout.readline().startswith("endpoint=")
    kids = children_of(process.pid)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    try:
        wait_until(lambda: not any(alive(k) for k in kids), timeout=15, what="children to exit")
    finally:
        reap(kids)


def test_sigkill_of_the_parent_leaves_no_process() -> None:
    process = _serve("--rate", "0")
    assert process.stdout is not None
    assert process.stdout.readline().startswith("endpoint=")
    kids = children_of(process.pid)
    assert kids
    process.kill()
    process.wait()
    try:
        wait_until(lambda: not any(alive(k) for k in kids), timeout=15, what="orphans to exit")
    finally:
        reap(kids)


@pytest.mark.parametrize("argv", [["--rate", "9000"], ["--rate", "-1"]])
def test_bad_rate_is_one_clear_line(argv: list[str]) -> None:
    out = subprocess.run([sys.executable, "-m", "warroom", "demo", "--serve", *argv],
                         capture_output=True, text=True, env=ENV, timeout=30)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "--rate" in out.stderr
    assert "Traceback" not in out.stderr
