"""`warroom scan` as a user runs it: a subprocess reading files or stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

TIMEOUT_LINE = "2024-05-01T10:15:32Z 3f9c Task timed out after 30.03 seconds"


def scan(*args: str, stdin: str | bytes = b"", env: dict[str, str] | None = None):
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run([sys.executable, "-m", "warroom", "scan", *args], input=data,
                          capture_output=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_stdin_text_output_and_summary() -> None:
    result = scan(stdin=f"hello\n{TIMEOUT_LINE}\nbye\n")
    out = result.stdout.decode()
    assert result.returncode == 0
    assert f"2: {TIMEOUT_LINE}" in out
    assert "lambda-timeout: Lambda function timed out" in out
    assert "1 line(s) matched 1 playbook(s)" in out
    assert "\x1b[" not in out  # not a terminal: no colour


def test_nothing_matched_exits_1() -> None:
    result = scan(stdin="all good\nerrors=0\n")
    assert result.returncode == 1
    assert b"no known symptoms found" in result.stdout


def test_json_lines() -> None:
    result = scan("--json", stdin=f"a\n\n{TIMEOUT_LINE}\n")
    (line,) = result.stdout.decode().splitlines()
    record = json.loads(line)
    assert record["line"] == 3 and record["text"] == TIMEOUT_LINE
    match = record["matches"][0]
    assert match["playbook"] == "lambda-timeout" and match["title"]
    assert TIMEOUT_LINE[match["start"]:match["end"]].startswith("Task timed out")
    assert match["captures"] == {"timeout": "30.03"}


def test_files_and_dash(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text(f"x\n{TIMEOUT_LINE}\n")
    result = scan("--json", str(log), "-", stdin=TIMEOUT_LINE)
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [(r["file"], r["line"]) for r in records] == [(str(log), 2), ("(stdin)", 1)]


def test_missing_file_is_an_error_on_one_line(tmp_path: Path) -> None:
    result = scan(str(tmp_path / "nope.log"))
    assert result.returncode == 2
    assert result.stderr.decode().strip().splitlines() == [
        f"warroom: {tmp_path / 'nope.log'}: No such file or directory"]


def test_secrets_are_redacted_and_escapes_made_inert() -> None:
    line = (f"\x1b]8;;http://evil\x07[bold]{TIMEOUT_LINE} key=AKIAIOSFODNN7EXAMPLE "
            "token ghp_abcdefghijklmnopqrstuvwxyz0123456789")
    for args in ((), ("--json",)):
        out = scan(*args, stdin=line).stdout.decode()
        assert "AKIAIOSFODNN7EXAMPLE" not in out and "ghp_abcdefghijklmnopqrstuvwxyz0123456789" not in out
        assert "AKIA****************" in out
        assert "\x1b" not in out and "\x07" not in out
        assert "[bold]" in out


def test_colour_on_request_and_never_with_no_color() -> None:
    coloured = scan(stdin=TIMEOUT_LINE, env={"FORCE_COLOR": "1"}).stdout.decode()
    assert "\x1b[1;31mTask timed out after 30.03 seconds\x1b[0m" in coloured
    plain = scan(stdin=TIMEOUT_LINE, env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout.decode()
    assert "\x1b[" not in plain


def test_invalid_utf8_and_long_lines_are_handled() -> None:
    data = b"\xff\xfe\x00bad\n" + b"z" * (1 << 20) + b"\n" + TIMEOUT_LINE.encode() + b"\n"
    result = scan("--json", stdin=data)
    assert result.returncode == 0
    assert json.loads(result.stdout.decode().splitlines()[-1])["line"] == 3


def test_broken_user_playbook_is_reported_and_skipped(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("id: bad\ntitle: [\n")
    result = subprocess.run([sys.executable, "-m", "warroom", "--playbooks", str(tmp_path), "scan"],
                            input=TIMEOUT_LINE.encode(), capture_output=True, timeout=60)
    assert result.returncode == 0
    assert "bad.yaml:" in result.stderr.decode() and "YAML syntax" in result.stderr.decode()
