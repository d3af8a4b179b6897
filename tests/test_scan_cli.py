"""`warroom scan` as a user runs it: a subprocess reading files or stdin."""

from __future__ import annotations

import io
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


def explain_fixture(tmp_path: Path) -> Path:
    """Three playbooks of one user directory that all match `zorblax failed hard`."""
    from tests.test_scan_cache import user_playbook

    mine = tmp_path / "mine"
    mine.mkdir()
    user_playbook(mine, "zorb-high", "zorblax failed hard", priority=70)
    user_playbook(mine, "zorb-low", "zorblax (?P<what>failed)", priority=40)
    user_playbook(mine, "zorb-short", "failed hard", priority=70)
    return mine


def test_explain_shows_every_pattern_and_why_it_lost(tmp_path: Path) -> None:
    mine = explain_fixture(tmp_path)
    result = subprocess.run([sys.executable, "-m", "warroom", "--playbooks", str(mine), "scan", "--explain"],
                            input=b"ok\nthe zorblax failed hard today\n", capture_output=True, timeout=60,
                            cwd=tmp_path)
    out = result.stdout.decode().splitlines()
    assert result.returncode == 0, result.stderr
    start = out.index("  → zorb-high: zorb-high title  (also: zorb-short, zorb-low)")
    assert out[start - 1] == "2: the zorblax failed hard today"
    assert out[start + 1:start + 7] == [
        "    chosen zorb-high  mine/zorb-high.yaml:8  priority 70  columns 5-23",
        "           pattern: zorblax failed hard",
        "    lower  zorb-short  mine/zorb-short.yaml:8  priority 70  columns 13-23"
        "  (same priority, shorter match: 11 < 19 characters)",
        "           pattern: failed hard",
        "    lower  zorb-low  mine/zorb-low.yaml:8  priority 40  columns 5-18  (lower priority: 40 < 70)",
        "           pattern: zorblax (?P<what>failed)",
    ]


def test_explain_as_json(tmp_path: Path) -> None:
    mine = explain_fixture(tmp_path)
    result = subprocess.run([sys.executable, "-m", "warroom", "--playbooks", str(mine), "scan", "--explain",
                             "--json"], input=b"zorblax failed hard\n", capture_output=True, timeout=60,
                            cwd=tmp_path)
    (record,) = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [(e["playbook"], e["chosen"]) for e in record["explain"]] == [
        ("zorb-high", True), ("zorb-short", False), ("zorb-low", False)]
    assert record["explain"][2] == {"playbook": "zorb-low", "file": "mine/zorb-low.yaml", "line": 8,
                                    "pattern": "zorblax (?P<what>failed)", "priority": 40,
                                    "start": 0, "end": 14, "chosen": False}


def test_explain_names_the_chosen_playbooks_other_patterns() -> None:
    from warroom.playbook.catalog import load_catalog
    from warroom.playbook.matcher import Matcher
    from warroom.scan import Printer

    matcher = Matcher(load_catalog())
    line = "REPORT RequestId: 3f9c Duration: 30000.00 ms Status: timeout Task timed out after 30.00 seconds"
    found = matcher.explain(line)
    assert [m.playbook for m, _ in found[:2]] == ["lambda-timeout", "lambda-timeout"]
    assert found[0][0] == matcher.match(line)[0]
    out = io.StringIO()
    Printer(out, as_json=False, show_file=False, explain=matcher).line("-", 1, line, matcher.match(line))
    assert "(another pattern of the same playbook)" in out.getvalue()


VETO_PLAYBOOK = """\
id: {pid}
title: {pid} title
service: lambda
severity: high
sources:
  - {{file: guide.md, section: "A > B"}}
symptoms:
  - pattern: '{pattern}'
    {veto}
cause: Something.
fix:
  - title: Look
    manual: Look at it.
prevention: Less of it.
"""


def veto_fixture(tmp_path: Path) -> Path:
    """One playbook vetoed by `unless`, one by `compare`, in one user directory."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "zorb-unless.yaml").write_text(VETO_PLAYBOOK.format(
        pid="zorb-unless", pattern="zorblax failed", veto="unless: 'failed harmlessly'"))
    (mine / "zorb-compare.yaml").write_text(VETO_PLAYBOOK.format(
        pid="zorb-compare", pattern=r"used (?P<used>\d+) of (?P<limit>\d+)",
        veto="compare: {left: used, op: '>=', right: limit}"))
    return mine


VETO_INPUT = b"zorblax failed harmlessly, used 3 of 10\nzorblax failed, used 12 of 10\nzorblax failed hard\n"


def scan_mine(mine: Path, *args: str):
    return subprocess.run([sys.executable, "-m", "warroom", "--playbooks", str(mine), "scan", *args],
                          input=VETO_INPUT, capture_output=True, timeout=60, cwd=mine.parent, check=False)


def test_explain_lists_the_matches_that_unless_and_compare_vetoed(tmp_path: Path) -> None:
    mine = veto_fixture(tmp_path)
    result = scan_mine(mine, "--explain")
    out = result.stdout.decode().splitlines()
    assert result.returncode == 0, result.stderr
    start = out.index("1: zorblax failed harmlessly, used 3 of 10")
    assert out[start + 1:start + 8] == [
        "  → no playbook: every pattern that matched was vetoed",
        ("    vetoed zorb-unless  mine/zorb-unless.yaml:8  priority 50  columns 1-14"
         "  (vetoed by unless (mine/zorb-unless.yaml:8))"),
        "           pattern: zorblax failed",
        "           unless: failed harmlessly",
        ("    vetoed zorb-compare  mine/zorb-compare.yaml:8  priority 50  columns 28-39"
         "  (vetoed by compare used >= limit: used=3, limit=10)"),
        r"           pattern: used (?P<used>\d+) of (?P<limit>\d+)",
        "2: zorblax failed, used 12 of 10",
    ]
    # Nothing vetoed on line 2; line 3 matches only the `unless` playbook, whose veto is absent.
    assert "vetoed" not in "\n".join(out[start + 8:])
    assert "2 line(s) matched 1 playbook(s):" in result.stdout.decode()  # line 1 counts for none


def test_vetoed_matches_without_explain_stay_silent_and_in_json_say_why(tmp_path: Path) -> None:
    mine = veto_fixture(tmp_path)
    plain = scan_mine(mine).stdout.decode()
    assert "harmlessly" not in plain and "vetoed" not in plain
    records = [json.loads(line) for line in scan_mine(mine, "--explain", "--json").stdout.decode().splitlines()]
    assert [r["line"] for r in records] == [1, 2, 3]
    first = records[0]
    assert first["matches"] == []
    assert [(e["playbook"], e["vetoed"]) for e in first["explain"]] == [
        ("zorb-unless", "unless"), ("zorb-compare", "compare")]
    assert first["explain"][0]["unless"] == "failed harmlessly"
    assert first["explain"][1]["compare"] == "used >= limit"
    assert first["explain"][1]["chosen"] is False
