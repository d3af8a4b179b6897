"""The runner against moto: diagnose, confirm, execute, verify, refuse, fail, mask."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from warroom.incident.audit import AuditLog, read
from warroom.runner import Edit, Runner, watch
from warroom.runner.cli_equivalent import aws_cli

from tests.runner_support import (
    ScriptedUser, boto, function_timeout, lock_exists, playbook, seed_function, seed_lock, session)

FN = "bos-dev-agent-persona"


async def run(pb: str, user: ScriptedUser, endpoint: str, audit: Path | None = None, **kwargs):
    async with session(endpoint, **kwargs.pop("options", {})) as s:
        runner = Runner(playbook(pb), user, s, audit=AuditLog(audit) if audit else None,
                        poll_interval=0.05, **kwargs)
        return runner, await runner.run()


async def test_lambda_timeout_fix_raises_the_timeout(moto, tmp_path: Path) -> None:
    seed_function(moto.endpoint, FN, timeout=3)
    user = ScriptedUser(inputs={"new_timeout": ["120"]}, confirms=[True], manual=[True, False])
    _, result = await run("lambda-timeout", user, moto.endpoint, tmp_path / "audit.jsonl",
                          values={"function": FN}, explicit={"function"})
    assert function_timeout(moto.endpoint, FN) == 120
    assert result.ok and [r.status for r in result.fix] == ["done", "done", "skipped"]
    assert result.fix[0].verified is True
    diagnosed = next(e for e in user.events if e.kind == "diagnosed")
    assert diagnosed.data["shown"]["Timeout"] == 3
    plan = user.asked("confirm")[0]
    assert plan.params == {"FunctionName": FN, "Timeout": 120}
    assert plan.api == "UpdateFunctionConfiguration"
    assert plan.description == "Set the function's timeout to 120 seconds (today 3 s)."
    assert plan.cli == (f"aws lambda update-function-configuration --function-name {FN} "
                        f"--timeout 120 --region us-east-1 --endpoint-url {moto.endpoint}")
    # The default offered for the input is the playbook's.
    assert user.asked("ask_input")[0] == ("new_timeout", 60, None)


async def test_input_out_of_bounds_is_asked_again(moto) -> None:
    seed_function(moto.endpoint, FN)
    user = ScriptedUser(inputs={"new_timeout": ["5000", "abc", "45"]}, confirms=[True], manual=[False, False])
    await run("lambda-timeout", user, moto.endpoint, values={"function": FN})
    problems = [p for _, _, p in user.asked("ask_input")]
    assert problems == [None, "5000 is above the maximum 900", "'abc' is not a whole number"]
    assert function_timeout(moto.endpoint, FN) == 45


async def test_declined_confirm_changes_nothing(moto) -> None:
    seed_function(moto.endpoint, FN, timeout=3)
    user = ScriptedUser(inputs={"new_timeout": ["60"]}, confirms=[False], manual=[False, False])
    _, result = await run("lambda-timeout", user, moto.endpoint, values={"function": FN})
    assert function_timeout(moto.endpoint, FN) == 3
    assert result.fix[0].status == "skipped" and result.ok


async def test_edit_at_confirm_plans_the_step_again(moto) -> None:
    seed_function(moto.endpoint, FN)
    user = ScriptedUser(inputs={"new_timeout": ["60"]}, confirms=[Edit({"new_timeout": "90"}), True],
                        manual=[False, False])
    await run("lambda-timeout", user, moto.endpoint, values={"function": FN})
    first, second = user.asked("confirm")
    assert first.params["Timeout"] == 60 and second.params["Timeout"] == 90
    assert function_timeout(moto.endpoint, FN) == 90


async def test_missing_parameter_is_asked_with_no_guessed_default(moto) -> None:
    seed_function(moto.endpoint, "other-fn")
    user = ScriptedUser(inputs={"function": ["other-fn"], "new_timeout": [""]}, confirms=[True],
                        manual=[False, False])
    await run("lambda-timeout", user, moto.endpoint)
    assert user.asked("ask_input")[0] == ("function", None, None)  # no account's name offered
    assert function_timeout(moto.endpoint, "other-fn") == 60  # empty answer: the default


async def test_lock_is_deleted_only_after_the_exact_name_is_typed(moto, tmp_path: Path) -> None:
    seed_lock(moto.endpoint, lock_id="worker-7")
    audit = tmp_path / "audit.jsonl"
    wrong = ScriptedUser(typed=["worker-"])
    _, result = await run("test-lock-stuck", wrong, moto.endpoint, audit, values={"lock_id": "worker-7"},
                          resource="test-locks")
    assert lock_exists(moto.endpoint) and result.fix[0].status == "skipped"
    assert not wrong.asked("confirm"), "a destructive step asks for the name, not y/N"
    plan, expected = wrong.asked("confirm_typed")[0]
    assert expected == "worker-7" and plan.destructive
    assert json.loads(plan.cli.split("--key ", 1)[1].split(" --")[0].strip("'")) == {"LockID": {"S": "worker-7"}}

    right = ScriptedUser(typed=["worker-7"])
    _, result = await run("test-lock-stuck", right, moto.endpoint, audit, values={"lock_id": "worker-7"},
                          resource="test-locks")
    assert not lock_exists(moto.endpoint)
    assert result.fix[0].status == "done" and result.fix[0].verified
    kinds = [r["kind"] for r in read(audit)]
    assert kinds.count("declined") == 1 and kinds[-3:] == ["intent", "outcome", "verify"]


async def test_read_only_refuses_before_any_prompt(moto, tmp_path: Path) -> None:
    seed_function(moto.endpoint, FN, timeout=3)
    seed_lock(moto.endpoint)
    audit = tmp_path / "audit.jsonl"
    user = ScriptedUser(inputs={"function": [FN]}, manual=[False, False])
    _, result = await run("lambda-timeout", user, moto.endpoint, audit, read_only=True)
    assert user.log[0][0] == "event:refused"
    first_question = next(i for i, (k, _) in enumerate(user.log) if not k.startswith("event:"))
    assert all(k == "event:refused" for k, _ in user.log[:first_question])
    assert not user.asked("confirm") and function_timeout(moto.endpoint, FN) == 3
    assert [r.status for r in result.fix] == ["refused", "skipped", "skipped"] and not result.ok
    assert any(r["kind"] == "refused" for r in read(audit))
    # A destructive step too, and the diagnose (read-only) still runs.
    user = ScriptedUser()
    _, result = await run("test-lock-stuck", user, moto.endpoint, read_only=True,
                          values={"lock_id": "worker-7"}, resource="test-locks")
    assert [e.kind for e in user.events] == ["refused", "diagnosed"]
    assert lock_exists(moto.endpoint)


async def test_failed_call_is_reported_and_audited(moto, tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    user = ScriptedUser(inputs={"new_timeout": ["60"]}, confirms=[True], failures=["skip"],
                        manual=[False, False])
    _, result = await run("lambda-timeout", user, moto.endpoint, audit, values={"function": "no-such-fn"})
    step = result.fix[0]
    assert step.status == "failed" and not result.ok
    assert step.error.code == "ResourceNotFoundException"
    assert step.error.message.startswith("ResourceNotFoundException: ")
    assert result.diagnose[0].status == "failed"  # diagnose failures are shown, not asked about
    records = [r for r in read(audit) if r.get("phase") == "fix" and r.get("step_number") == 1]
    assert [(r["kind"], r.get("status")) for r in records] == [("intent", None), ("outcome", "failed")]
    assert records[0]["params"] == {"FunctionName": "no-such-fn", "Timeout": 60}
    assert "ResourceNotFoundException" in records[1]["error"]
    assert records[0]["caller"].startswith("arn:aws:") and records[0]["account"] == "123456789012"


async def test_injected_error_then_retry_succeeds(moto, tmp_path: Path) -> None:
    seed_function(moto.endpoint, FN, timeout=3)
    audit = tmp_path / "audit.jsonl"

    def fault_on_confirm(event) -> None:  # the service breaks just before the fix runs
        if event.kind == "executing" and event.plan.number == 1 and not user.errors:
            moto.faults(error=1.0, targets=[f"/functions/{FN}/configuration"])

    user = ScriptedUser(inputs={"new_timeout": ["60", "75"]}, confirms=[True, True],
                        failures=["retry"], manual=[False, False], on_event=fault_on_confirm)
    original = user.on_failure

    async def heal_then_answer(plan, error):
        moto.faults()
        return await original(plan, error)

    user.on_failure = heal_then_answer  # type: ignore[method-assign]
    _, result = await run("lambda-timeout", user, moto.endpoint, audit, values={"function": FN},
                          options={"max_attempts": 1})
    assert user.errors[0].phase == "call" and "InternalFailure" in user.errors[0].message
    assert result.fix[0].status == "done" and function_timeout(moto.endpoint, FN) == 75
    outcomes = [r["status"] for r in read(audit) if r["kind"] == "outcome"]
    assert outcomes == ["failed", "ok"]


async def test_invalid_parameters_fail_before_confirm(moto) -> None:
    seed_function(moto.endpoint, FN)
    user = ScriptedUser(inputs={"memory": [""]}, confirms=[True], failures=["skip", "skip"])
    _, result = await run("test-bad-params", user, moto.endpoint, values={"function": FN},
                          explicit={"function"})
    first = user.errors[0]
    assert first.phase == "validate" and "MemorySize" in first.message
    assert len(user.asked("confirm")) == 1  # only the second step got as far as a confirm
    # Nothing is marked done that was not: the call succeeded but the verify never held.
    second = result.fix[1]
    assert second.status == "failed" and second.verified is False
    assert "Description is 'changed', expected 'never-this'" in second.error.message
    assert [e.kind for e in user.events].count("done") == 0


async def test_secret_never_appears_in_events_plans_or_audit(moto, tmp_path: Path) -> None:
    secret = "ghp_" + "Zx9" * 12
    secret_name = "test/github-token"
    boto(moto.endpoint, "secretsmanager").create_secret(Name=secret_name)
    audit = tmp_path / "audit.jsonl"
    user = ScriptedUser(inputs={"secret": [secret_name], "token": [secret]}, confirms=[True], manual=[True])
    _, result = await run("test-secret-put", user, moto.endpoint, audit)
    assert result.ok
    stored = boto(moto.endpoint, "secretsmanager").get_secret_value(SecretId=secret_name)["SecretString"]
    assert json.loads(stored) == {"token": secret}
    plan = user.asked("confirm")[0]
    assert plan.params["SecretString"] == '{"token":"********"}'
    assert "********" in plan.cli
    assert "********" in user.asked("mark_manual_done")[0].manual
    for text in (user.transcript(), audit.read_text()):
        assert secret not in text and "Zx9Zx9" not in text


async def test_shell_steps_run_in_the_chosen_directory_and_stream(moto, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    audit = tmp_path / "audit.jsonl"
    user = ScriptedUser(inputs={"word": ["ping"], "cwd": [str(tmp_path / "missing"), str(work), str(work)]},
                        confirms=[True, True], failures=["skip"])
    _, result = await run("test-shell-steps", user, moto.endpoint, audit)
    assert (work / "marker.txt").read_text() == "ping\n"
    lines = [e.message for e in user.events if e.kind == "output" and e.plan.number == 1]
    assert lines == ["wrote ping", "on stderr"]
    assert user.asked("ask_input")[2][2].endswith("missing is not a directory")
    plan = user.asked("confirm")[0]
    assert plan.cwd == str(work) and plan.shell.startswith('printf "%s\\n" ping')
    assert [r.status for r in result.fix] == ["done", "failed"]
    assert result.fix[1].error.message == "the command exited with status 3"
    shell_outcomes = [r.get("exit_status") for r in read(audit) if r["kind"] == "outcome"]
    assert shell_outcomes == [0, 3]


async def test_declined_shell_step_does_not_run(moto, tmp_path: Path) -> None:
    user = ScriptedUser(inputs={"word": ["x"], "cwd": [str(tmp_path)] * 2}, confirms=[False, False])
    _, result = await run("test-shell-steps", user, moto.endpoint)
    assert not (tmp_path / "marker.txt").exists()
    assert [r.status for r in result.fix] == ["skipped", "skipped"]


async def test_abort_stops_the_run(moto) -> None:
    user = ScriptedUser(inputs={"new_timeout": ["60"]}, confirms=[True], failures=["abort"])
    _, result = await run("lambda-timeout", user, moto.endpoint, values={"function": "missing"})
    assert result.aborted and not result.ok
    assert [r.status for r in result.fix] == ["failed", "not_run", "not_run"]
    assert not user.asked("mark_manual_done")


async def test_dry_run_calls_nothing_and_asks_nothing(moto, tmp_path: Path) -> None:
    seed_function(moto.endpoint, FN, timeout=3)
    user = ScriptedUser()
    audit = tmp_path / "audit.jsonl"
    _, result = await run("lambda-timeout", user, moto.endpoint, audit, dry_run=True,
                          values={"function": FN})
    assert [k for k, _ in user.log] == ["event:planned"] * 4
    assert result.fix[0].plan.params == {"FunctionName": FN, "Timeout": 60}
    assert result.fix[0].plan.unresolved == ("current_timeout",) and not result.fix[0].plan.problems
    assert function_timeout(moto.endpoint, FN) == 3 and not audit.exists()


def test_cli_equivalent_quotes_and_uses_json_for_structures() -> None:
    assert aws_cli("dynamodb", "delete_item", {"TableName": "t x", "Key": {"LockID": {"S": "a'b"}}}) == (
        "aws dynamodb delete-item --table-name 't x' --key '{\"LockID\":{\"S\":\"a'\"'\"'b\"}}'")
    assert aws_cli("lambda", "update_function_configuration",
                   {"FunctionName": "f", "Timeout": 60}, region="eu-west-1") == (
        "aws lambda update-function-configuration --function-name f --timeout 60 --region eu-west-1")
    assert aws_cli("s3", "get_bucket_versioning", {"Bucket": "b"}).startswith("aws s3api get-bucket-versioning")


def is_read_only(flag: bool | None, profile: str | None) -> bool:
    import argparse

    from warroom import config

    return config.build(argparse.Namespace(read_only=flag, profile=profile)).read_only


def test_read_only_from_profile_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "warroom").mkdir()
    (tmp_path / "warroom" / "config.toml").write_text('[profiles.prod]\nread_only = true\n')
    assert is_read_only(None, "prod") and not is_read_only(None, "dev")
    assert is_read_only(True, "dev")
    monkeypatch.setenv("AWS_PROFILE", "prod")
    assert is_read_only(None, None)


async def test_watch_reports_recurrence_and_quiet() -> None:
    calls: list[float] = []

    def seen_since(t: float) -> int:
        calls.append(t)
        return 0 if len(calls) < 3 else 2

    result = await watch(seen_since, since=1000.0, duration=60, interval=0.01)
    assert result.recurred and result.seen == 2 and result.checks == 3 and calls == [1000.0] * 3

    async def never(t: float) -> bool:
        return False

    quiet = await watch(never, duration=0.05, interval=0.01)
    assert not quiet.recurred and quiet.checks >= 2 and "did not recur" in quiet.describe()
