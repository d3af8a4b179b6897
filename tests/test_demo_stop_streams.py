"""`warroom demo --serve` stops on Ctrl-C/SIGTERM with Live Tail streams open or abandoned,
however it was started, and leaves no process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.demo_helpers import IGNORING_SIGINT, alive, children_of, reap, wait_until

from warroom.aws.session import AwsOptions, AwsSession
from warroom.demo.livetail import CONTROL_PATH
from warroom.demo.server import OFFLINE_ENV

# Dummy credentials, never real ones.
ENV = {**{k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_ENDPOINT_URL")}, **OFFLINE_ENV}
GROUPS = [f"/stop/g{i:02d}" for i in range(60)]

# A client that opens Live Tail sessions, reads into each, and then only waits: the test
# SIGKILLs it, leaving its streams half-open at the server.
ABANDONING_CLIENT = """
import sys
from warroom.aws.session import AwsOptions, AwsSession
endpoint, names = sys.argv[1], sys.argv[2:]
logs = AwsSession(AwsOptions(endpoint_url=endpoint, region="us-east-1", max_attempts=0)).sync_client("logs")
streams = [logs.start_live_tail(logGroupIdentifiers=names[i:i + 10])["responseStream"]
           for i in range(0, len(names), 10)]
for stream in streams:
    next(iter(stream))
print("open", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], str, set[int]]]:
    """`warroom demo --serve --bare` started the way a background job is: SIGINT ignored.

    Quotas lifted: the test sets up its groups as fast as it can; the stop is the point."""
    process = subprocess.Popen(
        [sys.executable, *IGNORING_SIGINT, "-m", "warroom", "demo", "--serve", "--bare", "--no-quotas"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=ENV)
    assert process.stdout is not None
    first = process.stdout.readline().strip()
    kids = children_of(process.pid)
    try:
        assert first.startswith("endpoint=http://127.0.0.1:")
        yield process, first.split("=", 1)[1], kids
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reap(kids)


def sessions(endpoint: str) -> int:
    request = urllib.request.Request(endpoint + CONTROL_PATH, data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return int(json.loads(response.read())["sessions"])


def open_streams(logs: Any, names: list[str]) -> list[Any]:
    """Live Tail sessions of ten groups each, read up to their start."""
    streams = [logs.start_live_tail(logGroupIdentifiers=names[i:i + 10])["responseStream"]
               for i in range(0, len(names), 10)]
    for stream in streams:
        next(iter(stream))
    return streams


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_stop_with_live_tail_streams_open_and_abandoned(
        served: tuple[subprocess.Popen[str], str, set[int]], stop: signal.Signals) -> None:
    process, endpoint, kids = served
    assert kids  # the moto server
    options = AwsOptions(endpoint_url=endpoint, region="us-east-1", max_attempts=0)
    logs = AwsSession(options).sync_client("logs")
    for name in GROUPS:
        logs.create_log_group(logGroupName=name)
        logs.create_log_stream(logGroupName=name, logStreamName="s")
    client = subprocess.Popen([sys.executable, "-c", ABANDONING_CLIENT, endpoint, *GROUPS[:30]],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV)
    mine: list[Any] = []
    try:
        assert client.stdout is not None and client.stdout.readline().strip() == "open"
        mine = open_streams(logs, GROUPS[30:])  # left open, never read again
        for name in GROUPS:
            logs.put_log_events(logGroupName=name, logStreamName="s",
                                logEvents=[{"timestamp": 1_700_000_000_000, "message": "x" * 1000}] * 20)
        assert sessions(endpoint) == 6
        client.kill()  # mid-stream, as the bench kills a tail that does not stop in time
        client.wait()

        process.send_signal(stop)

        assert process.wait(timeout=30) == 0  # a hang guard: the stop is orderly, not a kill
        wait_until(lambda: not any(alive(k) for k in kids), timeout=15, what="the moto server to exit")
    finally:
        for stream in mine:
            stream.close()
        if client.poll() is None:
            client.kill()
            client.wait()
