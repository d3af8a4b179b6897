"""`warroom report`: the audit trail as a Markdown timeline."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from warroom.cli import main
from warroom.incident.audit import AuditLog
from warroom.incident.records import Finding


def seed(path: Path) -> None:
    log = AuditLog(path)
    with path.open("a") as handle:  # a record from three days ago
        handle.write(json.dumps({"kind": "finding", "ts": time.time() - 3 * 86400, "playbook": "old-one",
                                 "resource": "x", "evidence": "ancient"}) + "\n")
    log.finding(Finding("lambda-timeout", "fn-a", "function",
                        "Task timed out after 3.00 seconds | \x1b[31m `rm -rf`", int(time.time() * 1000), "log"))
    common = {"run": "r1", "playbook": "lambda-timeout", "caller": "arn:aws:iam::1:user/alice",
              "account": "1", "region": "us-east-1", "phase": "fix", "step_number": 1,
              "step": "Raise the timeout", "call": "lambda.update_function_configuration"}
    log.append("session", **{k: common[k] for k in ("run", "playbook", "caller", "account", "region")})
    log.append("intent", **common, params={"FunctionName": "fn-a", "Timeout": 60},
               cli="aws lambda update-function-configuration --function-name fn-a --timeout 60")
    log.append("outcome", **common, status="ok", result={"Timeout": 60})
    log.append("verify", **common, status="ok", verify="verified: Timeout = 60")
    log.append("manual", **{**common, "step_number": 2, "step": "Make it permanent", "call": None},
               status="skipped")
    log.append("intent", **{**common, "step_number": 3, "step": "Delete the lock",
                            "call": "dynamodb.delete_item"}, cli="aws dynamodb delete-item ...")


def test_report_renders_findings_steps_and_outcomes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "audit.jsonl"
    seed(path)
    assert main(["report", "--since", "2h", "--audit-log", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Incident timeline\n")
    assert "## Findings seen" in out and "## Steps taken" in out and "## Timeline" in out
    assert "ancient" not in out  # older than --since
    assert "| lambda-timeout | fn-a |" in out
    assert "\x1b" not in out and "\\x1b[31m" in out  # escape sequences are inert
    assert "Task timed out after 3.00 seconds \\| \\x1b[31m 'rm -rf'" in out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "Raise the timeout" in line]
    assert len(rows) == 1 and "| ok |" in rows[0] and "verified: Timeout = 60" in rows[0]
    assert "`aws lambda update-function-configuration --function-name fn-a --timeout 60`" in rows[0]
    assert any("Delete the lock" in line and "no outcome recorded (interrupted?)" in line
               for line in out.splitlines())
    assert "Make it permanent | `manual` | not marked done" in out
    assert "Caller: arn:aws:iam::1:user/alice (1)" in out
    assert main(["--audit-log", str(path), "report", "--since", "all"]) == 0
    assert "ancient" in capsys.readouterr().out


def test_report_on_an_empty_log_and_bad_since(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--audit-log", str(tmp_path / "none.jsonl")]) == 0
    assert "No audit records" in capsys.readouterr().out
    assert main(["report", "--since", "yesterday-ish"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("warroom: --since 'yesterday-ish': expected a duration") and err.count("\n") == 1
