"""The audit trail: durable JSONL, intent before execution, no secrets."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from warroom.incident.audit import AuditLog, default_path, read
from warroom.incident.records import Finding
from warroom.runner import Runner

from tests.runner_support import ScriptedUser, function_timeout, playbook, seed_function, session

FN = "bos-dev-agent-persona"


def test_records_are_json_lines_with_time_and_kind(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "deep" / "audit.jsonl")
    log.append("intent", step="Raise", params={"Timeout": 60})
    log.finding(Finding("lambda-timeout", FN, "function", "Task timed out after 3.00 seconds",
                        1_700_000_000_000, "log", {"timeout": "3.00"}))
    lines = (tmp_path / "deep" / "audit.jsonl").read_text().splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first["kind"] == "intent" and first["params"] == {"Timeout": 60}
    assert first["time"].endswith("Z") and isinstance(first["ts"], float)
    assert second["kind"] == "finding" and second["resource"] == FN and second["captures"] == {"timeout": "3.00"}
    assert second["source"] == "log" and second["seen_ms"] == 1_700_000_000_000
    assert stat.S_IMODE(os.stat(tmp_path / "deep" / "audit.jsonl").st_mode) == 0o600


def test_read_skips_a_line_cut_by_a_crash_and_filters_by_time(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.append("intent", step="one")
    with path.open("a") as handle:
        handle.write('{"kind": "outcome", "ts": 1, "step": "old"}\n{"kind": "outc')
        handle.write("\n")
    log.append("outcome", step="two")
    assert [r["step"] for r in read(path)] == ["one", "old", "two"]
    assert [r["step"] for r in read(path, since=100)] == ["one", "two"]
    assert list(read(tmp_path / "missing.jsonl")) == []


def test_tokens_are_redacted_on_the_way_in(tmp_path: Path) -> None:
    token = "ghp_" + "a1B2" * 9
    log = AuditLog(tmp_path / "a.jsonl")
    log.append("outcome", error=f"bad credentials for token {token}")
    assert token not in (tmp_path / "a.jsonl").read_text()


def test_default_path_is_in_the_xdg_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_path() == tmp_path / "warroom" / "audit.jsonl"
    assert AuditLog().path == default_path()


async def test_intent_is_on_disk_before_the_call_is_made(moto, tmp_path: Path) -> None:
    """A crash during the call still leaves the intent: it is written when the call starts."""
    seed_function(moto.endpoint, FN, timeout=3)
    path = tmp_path / "audit.jsonl"
    seen_at_execution: list[list[str]] = []

    def snapshot(event) -> None:
        if event.kind == "executing":
            seen_at_execution.append([r["kind"] for r in read(path)])

    user = ScriptedUser(inputs={"new_timeout": ["61"]}, confirms=[True], manual=[False, False],
                        on_event=snapshot)
    async with session(moto.endpoint) as s:
        await Runner(playbook("lambda-timeout"), user, s, values={"function": FN},
                     audit=AuditLog(path), poll_interval=0.05).run()
    assert function_timeout(moto.endpoint, FN) == 61
    assert seen_at_execution == [["session", "diagnose", "intent"]]
    records = list(read(path))
    intent, outcome, verify = (r for r in records if r.get("step_number") == 1 and r["phase"] == "fix")
    assert intent["call"] == "lambda.update_function_configuration"
    assert intent["params"] == {"FunctionName": FN, "Timeout": 61}
    assert intent["cli"].startswith("aws lambda update-function-configuration")
    assert outcome["status"] == "ok" and outcome["result"]["Timeout"] == 61
    assert verify["status"] == "ok" and "Timeout = 61" in verify["verify"]
    assert {r["caller"] for r in records} == {"arn:aws:sts::123456789012:user/moto"}
    assert {r["region"] for r in records} == {"us-east-1"}
    assert len({r["run"] for r in records}) == 1
