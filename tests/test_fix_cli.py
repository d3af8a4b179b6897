"""`warroom fix` in line mode, as a user or a script runs it (a subprocess, stdin fed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from warroom.demo.server import OFFLINE_ENV

from tests.runner_support import (
    FIXTURES, boto, function_timeout, lock_exists, seed_function, seed_lock)

FN = "bos-dev-agent-persona"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The child's environment: offline credentials, private XDG dirs, no colour."""
    out = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "XDG_", "WARROOM_"))}
    out.update(OFFLINE_ENV, NO_COLOR="1", AWS_CONFIG_FILE=str(tmp_path / "aws-config"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "aws-credentials"),
               XDG_STATE_HOME=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    return out


def warroom(env: dict[str, str], *args: str, stdin: str = "", endpoint: str | None = None) -> subprocess.CompletedProcess[str]:
    prefix = ["--endpoint-url", endpoint, "--region", "us-east-1"] if endpoint else []
    return subprocess.run([sys.executable, "-m", "warroom", *prefix, *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=120)


def audit_records(tmp_path: Path) -> list[dict]:
    path = tmp_path / "state" / "warroom" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_yes_raises_the_timeout_without_questions(moto, env, tmp_path: Path) -> None:
    seed_function(moto.endpoint, FN, timeout=3)
    done = warroom(env, "fix", "lambda-timeout", "--param", f"function={FN}", "--yes", endpoint=moto.endpoint)
    assert done.returncode == 0, done.stdout + done.stderr
    assert function_timeout(moto.endpoint, FN) == 60
    assert "Run this step? y  (--yes)" in done.stdout
    assert "fix 1. Raise the timeout: done" in done.stdout
    assert f"aws lambda update-function-configuration --function-name {FN} --timeout 60" in done.stdout
    kinds = [r["kind"] for r in audit_records(tmp_path)]
    assert kinds[:5] == ["session", "diagnose", "intent", "outcome", "verify"]


def test_interactive_answers_on_stdin(moto, env, tmp_path: Path) -> None:
    seed_function(moto.endpoint, FN, timeout=3)
    # new timeout, confirm, then the two manual steps: done, not done
    done = warroom(env, "fix", "lambda-timeout", "--resource", FN, stdin="150\ny\ny\n\n",
                   endpoint=moto.endpoint)
    assert done.returncode == 0, done.stdout + done.stderr
    assert function_timeout(moto.endpoint, FN) == 150
    assert "New timeout in seconds [60]: " in done.stdout
    assert "Timeout: 3" in done.stdout  # the diagnose result


def test_closed_stdin_aborts_with_status_1(moto, env) -> None:
    seed_function(moto.endpoint, FN, timeout=3)
    done = warroom(env, "fix", "lambda-timeout", "--param", f"function={FN}", stdin="90\n",
                   endpoint=moto.endpoint)
    assert done.returncode == 1
    assert function_timeout(moto.endpoint, FN) == 3
    assert "fix 1. Raise the timeout: aborted" in done.stdout


def test_dry_run_needs_no_credentials_and_calls_nothing(env, tmp_path: Path) -> None:
    for key in OFFLINE_ENV:
        env.pop(key, None)
    done = warroom(env, "--region", "us-east-1", "fix", "lambda-timeout", "--param", "function=my-fn",
                   "--param", "new_timeout=90", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert ("cli     aws lambda update-function-configuration --function-name my-fn --timeout 90 "
            "--region us-east-1") in done.stdout
    assert "cli     aws lambda get-function-configuration --function-name my-fn --region us-east-1" in done.stdout
    assert "(dry run: not executed)" in done.stdout and done.stderr == ""
    assert not (tmp_path / "state").exists()


def test_read_only_refuses_first_and_exits_1(moto, env, tmp_path: Path) -> None:
    seed_function(moto.endpoint, FN, timeout=3)
    done = warroom(env, "--read-only", "fix", "lambda-timeout", "--param", f"function={FN}", "--yes",
                   endpoint=moto.endpoint)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[1].startswith("REFUSED (read-only): fix 1. Raise the timeout")
    assert "Run this step?" not in done.stdout and function_timeout(moto.endpoint, FN) == 3
    # The same from the per-profile config file.
    (tmp_path / "config" / "warroom").mkdir(parents=True)
    (tmp_path / "config" / "warroom" / "config.toml").write_text("[profiles.default]\nread_only = true\n")
    done = warroom(env, "fix", "lambda-timeout", "--param", f"function={FN}", "--yes", endpoint=moto.endpoint)
    assert done.returncode == 1 and "REFUSED (read-only)" in done.stdout
    assert function_timeout(moto.endpoint, FN) == 3


def test_destructive_step_with_yes_needs_the_name_on_the_command_line(moto, env) -> None:
    seed_lock(moto.endpoint, lock_id="worker-7")
    args = ["--playbooks", str(FIXTURES), "fix", "test-lock-stuck", "--resource", "test-locks", "--yes"]
    # lock_id not given: with --yes nobody is asked, so one line names the --param to give.
    done = warroom(env, *args, stdin="worker-7\n", endpoint=moto.endpoint)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "warroom: test-lock-stuck needs lock_id (Lock item key): give --param lock_id=VALUE"]
    assert lock_exists(moto.endpoint)
    done = warroom(env, *args, "--param", "lock_id=worker-7", endpoint=moto.endpoint)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not lock_exists(moto.endpoint)
    assert "confirmed by --yes with lock_id given on the command line" in done.stdout


def test_failed_call_exits_1_and_is_audited(moto, env, tmp_path: Path) -> None:
    done = warroom(env, "fix", "lambda-timeout", "--param", "function=ghost", "--yes", endpoint=moto.endpoint)
    assert done.returncode == 1
    assert "fix 1. Raise the timeout: failed: ResourceNotFoundException" in done.stdout
    fix1 = [(r["kind"], r.get("status")) for r in audit_records(tmp_path)
            if r.get("phase") == "fix" and r.get("step_number") == 1]
    assert fix1 == [("intent", None), ("outcome", "failed"), ("aborted", None)]


def test_secret_typed_on_stdin_is_never_printed_or_logged(moto, env, tmp_path: Path) -> None:
    secret = "tok-" + "Q7w" * 10
    boto(moto.endpoint, "secretsmanager").create_secret(Name="test/github-token")
    audit = tmp_path / "explicit-audit.jsonl"
    done = warroom(env, "--playbooks", str(FIXTURES), "--audit-log", str(audit), "fix", "test-secret-put",
                   "--resource", "test/github-token", stdin=f"{secret}\ny\nn\n", endpoint=moto.endpoint)
    assert done.returncode == 0, done.stdout + done.stderr
    stored = boto(moto.endpoint, "secretsmanager").get_secret_value(SecretId="test/github-token")
    assert json.loads(stored["SecretString"]) == {"token": secret}
    for text in (done.stdout, done.stderr, audit.read_text()):
        assert secret not in text and "Q7wQ7w" not in text
    assert '{"token":"********"}' in done.stdout


@pytest.mark.parametrize("args, message", [
    (["fix", "no-such-playbook"], "warroom: no playbook with id 'no-such-playbook'"),
    (["fix", "lambda-timeout", "--param", "oops"], "warroom: bad --param 'oops': expected NAME=VALUE"),
    (["fix", "lambda-timeout", "--param", "nope=1"], "warroom: bad --param 'nope': not a parameter"),
    (["fix", "lambda-timeout", "--param", "new_timeout=9999"], "warroom: bad --param new_timeout: 9999 is above"),
    (["fix", "lambda-timeout", "--resource", "fn;id"],
     "warroom: bad --resource function: 'fn;id' is not a Lambda function name"),
    (["fix", "dynamodb-lock-stuck", "--param", "table=$(id)"],
     "warroom: bad --param table: '$(id)' is not a DynamoDB table name"),
])
def test_bad_input_is_one_line_and_exit_2(env, args: list[str], message: str) -> None:
    done = warroom(env, *args)
    assert done.returncode == 2 and done.stderr.startswith(message) and done.stderr.count("\n") == 1
    assert done.stdout == ""


def test_closed_input_at_a_prompt_stops_the_run_and_is_audited(moto, env, tmp_path: Path) -> None:
    seed_function(moto.endpoint, FN, timeout=3)
    done = warroom(env, "fix", "lambda-timeout", "--resource", FN, stdin="", endpoint=moto.endpoint)
    assert done.returncode == 1 and "stopped (input closed)" in done.stdout
    assert function_timeout(moto.endpoint, FN) == 3
    aborted = [r for r in audit_records(tmp_path) if r["kind"] == "aborted"]
    assert [(r["reason"], r["step_number"]) for r in aborted] == [("input closed", 1)]
