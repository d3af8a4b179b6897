"""Each secret shape in a log line never reaches the console, `tail`, `tail --json` or `scan`;
bidi and zero-width characters arrive escaped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from warroom.aws.session import AwsOptions, AwsSession
from warroom.demo.server import MotoServer
from warroom.incident.records import Record

from tests.test_secrets import SHAPES
from tests.tui_helpers import row_text, sample_app

GROUP = "/aws/lambda/bos-dev-secrets"
STREAM = "2024/01/01/[$LATEST]00000000000000000000000000000000"
TIMEOUT_LINE = "2024-05-01T10:15:32Z 3f9c Task timed out after 30.03 seconds"
BIDI = "invoice\u202efdp.exe\u200b\u2066x\u2069\ufeff"
BIDI_SHOWN = "invoice\\u202efdp.exe\\u200b\\u2066x\\u2069\\ufeff"
WINDOW = 8  # a secret shown even in part, e.g. cut by a wrap, shows this many characters in a row


def assert_hidden(text: str) -> None:
    for _, secret in SHAPES:
        windows = {secret[i:i + WINDOW] for i in range(len(secret) - WINDOW + 1)}
        shown = [w for w in windows if w in text]
        assert not shown, (secret, shown)


def warroom(*args: str, stdin: str = "", endpoint: str = "") -> subprocess.CompletedProcess[str]:
    where = ("--endpoint-url", endpoint, "--region", "us-east-1") if endpoint else ()
    return subprocess.run([sys.executable, "-m", "warroom", *where, *args], input=stdin,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NO_COLOR": "1"})


def test_scan_text_and_json() -> None:
    lines = [f"{TIMEOUT_LINE} {line}" for line, _ in SHAPES if "\n" not in line] + [f"{TIMEOUT_LINE} {BIDI}"]
    for args in ((), ("--json",)):
        result = warroom("scan", *args, stdin="\n".join(lines) + "\n")
        assert result.returncode == 0, result.stderr
        assert result.stdout.count("lambda-timeout") >= len(lines)
        assert_hidden(result.stdout)
        assert "\u202e" not in result.stdout and "\u200b" not in result.stdout
    assert BIDI_SHOWN in warroom("scan", stdin=lines[-1]).stdout
    record = json.loads(warroom("scan", "--json", stdin=lines[-1]).stdout)
    assert record["text"].endswith(BIDI)  # escaped on the wire, exact once parsed


def seed_events(moto: MotoServer) -> None:
    logs = AwsSession(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1")).sync_client("logs")
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName=STREAM)
    t = int(time.time() * 1000) - 30_000
    messages = [line for line, _ in SHAPES] + [BIDI]
    logs.put_log_events(logGroupName=GROUP, logStreamName=STREAM, logEvents=[
        {"timestamp": t + i, "message": message} for i, message in enumerate(messages)])


def test_tail_text_and_json(moto: MotoServer) -> None:
    seed_events(moto)
    text = warroom("tail", "--no-follow", "--since", "5m", GROUP, endpoint=moto.endpoint)
    assert text.returncode == 0, text.stderr
    assert len(text.stdout.splitlines()) == len(SHAPES) + 1
    assert_hidden(text.stdout)
    assert BIDI_SHOWN in text.stdout and "\u202e" not in text.stdout
    as_json = warroom("tail", "--json", "--no-follow", "--since", "5m", GROUP, endpoint=moto.endpoint)
    assert as_json.returncode == 0, as_json.stderr
    objects = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [len(o["message"]) for o in objects] == [len(line) for line, _ in SHAPES] + [len(BIDI)]
    assert_hidden(as_json.stdout)
    assert_hidden("\n".join(o["message"] for o in objects))
    assert "\u202e" not in as_json.stdout and objects[-1]["message"] == BIDI


async def test_console_log_view() -> None:
    app = sample_app(count=20)
    async with app.run_test(size=(200, 100)) as pilot:
        app.pump()
        t = int(time.time() * 1000)
        app.store.push([Record("logs", GROUP, STREAM, t + i, f"s{i}", line)
                        for i, (line, _) in enumerate(SHAPES)])
        app.pump()
        await pilot.pause()
        logs = app.main.logs
        logs.wrap = True  # every character of each line on screen
        logs._version += 1
        await pilot.pause()
        rows = [row_text(app, y) for y in range(logs.scrollable_content_region.height)]
        shown = "\n".join(rows)
        assert sum(GROUP.rsplit("/", 1)[1] in row for row in rows) == len(SHAPES)
        assert "AKIA****************" in shown and "password=**************" in shown
        assert_hidden(shown)
