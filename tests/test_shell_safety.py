"""Log text is untrusted: shell steps run exactly what was confirmed, and values stay data.

Hostile values arrive the four ways a value can (a log line's capture, `--param`, the
selected resource, an edit at the confirm); each must either run as the literal value or be
refused, and no payload may create its marker file.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
import os
import select
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from warroom.aws.service_model import check_call
from warroom.incident.audit import AuditLog, read
from warroom.playbook.catalog import load_layer
from warroom.playbook.loader import load_text
from warroom.playbook.matcher import Matcher
from warroom.playbook.model import Input
from warroom.playbook.template import render_shell, shell_problem
from warroom.playbook.types import TYPES, misfit
from warroom.runner import Edit, Runner
from warroom.runner.events import RunResult
from warroom.runner.inputs import BadInput, coerce
from warroom.runner.shell import run_shell
from warroom.textout import inert

from tests.runner_support import ScriptedUser, session, seed_function

PLAYBOOK = """\
id: test-echo
title: Echo a value
service: terraform
severity: low
sources:
  - {file: x.md, section: test}
params:
  value: {description: Any text, resource: function}
  table: {description: A table, type: table_name}
symptoms:
  - pattern: 'echo fixture value=(?P<value>.+)$'
  - pattern: 'table fixture table=(?P<table>.+)$'
cause: A test.
fix:
  - title: Echo
    shell: 'echo got {value}'
  - title: Echo the table
    shell: 'echo table {table}'
prevention: None.
"""


def payloads(marker: Path) -> list[str]:
    """Each would create `marker` if it reached a shell as code."""
    return [
        f"a;touch {marker};#",
        f"$(touch${{IFS}}{marker})",
        f"`touch {marker}`",
        f"a\ntouch {marker}\n",
        f"a$IFS;touch$IFS{marker}",
        f"x-access-token:$(touch${{IFS}}{marker})@",
        f"'; touch {marker}; '",
        f"\"; touch {marker}; \"",
        f"a | touch {marker} &",
    ]


def ids(values: list[str]) -> list[str]:
    return [f"payload{i}" for i in range(len(values))]


PAYLOADS = payloads(Path("MARKER"))


@pytest.fixture
def echo_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "test-echo.yaml").write_text(PLAYBOOK)
    return folder


def echo_playbook(folder: Path):  # type: ignore[no-untyped-def]
    found = load_layer([folder], check_call).get("test-echo")
    assert found is not None
    return found


def hostile(template: str, tmp_path: Path) -> str:
    return template.replace("MARKER", str(tmp_path / "pwned"))


async def run_first_step(folder: Path, tmp_path: Path, user: ScriptedUser, endpoint: str, **kwargs):
    """The playbook's first fix step only (the second needs a table), with an audit trail."""
    playbook = echo_playbook(folder)
    audit = tmp_path / "audit.jsonl"
    async with session(endpoint) as s:
        result = await Runner(replace(playbook, fix=playbook.fix[:1]), user, s, audit=AuditLog(audit),
                              **kwargs).run()
    return result, read(audit)


def assert_literal_or_refused(value: str, user: ScriptedUser, result: RunResult, records: list[dict],
                              tmp_path: Path) -> None:
    assert not (tmp_path / "pwned").exists()
    step = result.fix[0]
    executing = [e for e in user.events if e.kind == "executing"]
    if step.status == "done":
        plan = user.asked("confirm")[-1]
        assert shlex.split(plan.shell) == ["echo", "got", value]
        output = "\n".join(e.message for e in user.events if e.kind == "output")
        assert output == f"got {value}"  # a value's own newline ends a line of output
        intents = [r for r in records if r["kind"] == "intent"]
        assert [r["shell"] for r in intents] == [plan.shell]
        assert executing[0].message.startswith(f"$ {plan.shell}   (in ")
    else:
        assert step.status == "failed" and step.error.phase == "validate"
        assert step.error.message.startswith("refused: ")
        assert not executing and not user.asked("confirm") and not user.asked("ask_input")
        assert not [r for r in records if r["kind"] == "intent"]


# -- rendering ---------------------------------------------------------------------------

@pytest.mark.parametrize("template", PAYLOADS, ids=ids(PAYLOADS))
def test_a_value_is_one_shell_word_whatever_it_holds(template: str) -> None:
    command = render_shell("echo got {value}", {"value": template})
    assert shlex.split(command) == ["echo", "got", template]


@pytest.mark.parametrize("template, where", [
    ('echo "{x}"', 'inside "..."'), ("echo '{x}'", "inside '...'"), ("echo \\{x}", "backslash"),
    ("echo ok # {x}", "comment"), ("cat <<EOF\n{x}\nEOF", "here-document"),
    ("echo ${A:-{x}}", "${...}"), ("echo $(( {x} + 1 ))", "$((...))"),
])
def test_a_placeholder_the_shell_would_not_read_as_a_word_is_refused(template: str, where: str) -> None:
    problem = shell_problem(template)
    assert problem is not None and where in problem


@pytest.mark.parametrize("template", [
    "echo {x}", 'printf "%s\\n" {x} > f', "echo $(echo {x})", '"$(echo {x})"', "echo `echo {x}`",
    "aws s3 rb s3://{x} --force", "echo ${HOME} {x}", "echo '{' {x}",
])
def test_bare_placeholders_are_accepted(template: str) -> None:
    assert shell_problem(template) is None


def test_loader_reports_a_quoted_placeholder_with_file_and_line() -> None:
    text = PLAYBOOK.replace("shell: 'echo got {value}'", "shell: 'echo \"got {value}\"'")
    playbook, problems = load_text(text, "mine.yaml")
    assert playbook is None
    assert [str(p) for p in problems] == [
        'mine.yaml:16: fix[0].shell: {value} is inside "..."; write it as a bare word: '
        "warroom quotes every value itself"]


# -- the four ways in --------------------------------------------------------------------

@pytest.mark.parametrize("template", PAYLOADS, ids=ids(PAYLOADS))
async def test_a_captured_value_from_a_log_line_is_data(moto, echo_dir: Path, tmp_path: Path,
                                                       template: str) -> None:
    value = hostile(template, tmp_path)
    line = f"echo fixture value={value}".splitlines()[0]  # a log line has no newline
    matches = Matcher([echo_playbook(echo_dir)]).match(line)
    captures = matches[0].captures
    assert captures["value"] == line.split("value=", 1)[1]
    user = ScriptedUser(inputs={"cwd": [str(tmp_path)]}, confirms=[True], failures=["skip"])
    result, records = await run_first_step(echo_dir, tmp_path, user, moto.endpoint, values=captures)
    assert_literal_or_refused(captures["value"], user, result, records, tmp_path)


@pytest.mark.parametrize("template", PAYLOADS, ids=ids(PAYLOADS))
async def test_the_selected_resource_is_data(moto, echo_dir: Path, tmp_path: Path, template: str) -> None:
    value = hostile(template, tmp_path)
    user = ScriptedUser(inputs={"cwd": [str(tmp_path)]}, confirms=[True], failures=["skip"])
    result, records = await run_first_step(echo_dir, tmp_path, user, moto.endpoint, resource=value,
                                           resource_kind="function")
    assert_literal_or_refused(value, user, result, records, tmp_path)


@pytest.mark.parametrize("template", PAYLOADS, ids=ids(PAYLOADS))
async def test_an_edit_at_the_confirm_is_data(moto, echo_dir: Path, tmp_path: Path, template: str) -> None:
    value = hostile(template, tmp_path)
    user = ScriptedUser(inputs={"cwd": [str(tmp_path)] * 2}, confirms=[Edit({"value": value}), True],
                        failures=["skip"])
    result, records = await run_first_step(echo_dir, tmp_path, user, moto.endpoint,
                                           values={"value": "harmless"})
    assert not (tmp_path / "pwned").exists()
    assert shlex.split(user.asked("confirm")[0].shell) == ["echo", "got", "harmless"]
    if result.fix[0].status == "done":
        assert_literal_or_refused(value, user, result, records, tmp_path)
        assert len(user.asked("confirm")) == 2
    else:  # refused at the second plan: nothing ran, and the first plan was all that was shown
        assert result.fix[0].error.message.startswith("refused: ")
        assert not [e for e in user.events if e.kind == "executing"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "XDG_", "WARROOM_"))}
    from warroom.demo.server import OFFLINE_ENV

    out.update(OFFLINE_ENV, NO_COLOR="1", AWS_CONFIG_FILE=str(tmp_path / "aws-config"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "aws-credentials"),
               XDG_STATE_HOME=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    return out


def audit_records(tmp_path: Path) -> list[dict]:
    path = tmp_path / "state" / "warroom" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.parametrize("template", PAYLOADS, ids=ids(PAYLOADS))
def test_a_param_on_the_command_line_is_data(moto, env, echo_dir: Path, tmp_path: Path,
                                             template: str) -> None:
    value = hostile(template, tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "warroom", "--endpoint-url", moto.endpoint, "--playbooks", str(echo_dir),
         "fix", "test-echo", "--param", f"value={value}", "--param", "table=my-table", "--yes"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert not (tmp_path / "pwned").exists()
    intents = [r for r in audit_records(tmp_path) if r["kind"] == "intent" and r["step_number"] == 1]
    if "fix 1. Echo: done" in done.stdout:
        assert shlex.split(intents[0]["shell"]) == ["echo", "got", value]
        # The confirm and the progress line show what the audit holds (control characters
        # escaped on a terminal, as all untrusted text is).
        assert done.stdout.count(f"$ {inert(intents[0]['shell'])}") == 2
        printed = [line[5:] for line in done.stdout.splitlines() if line.startswith("   | ")]
        assert printed[:len(value.splitlines())] == f"got {value}".splitlines()
    else:
        assert "fix 1. Echo: failed: refused: " in done.stdout and not intents
        assert done.returncode == 1


# -- parameter types -----------------------------------------------------------------------

@pytest.mark.parametrize("template", PAYLOADS, ids=ids(PAYLOADS))
def test_a_typed_param_refuses_every_payload_on_the_command_line(env, echo_dir: Path, tmp_path: Path,
                                                                 template: str) -> None:
    value = hostile(template, tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "warroom", "--endpoint-url", "http://127.0.0.1:9", "--playbooks",
         str(echo_dir), "fix", "test-echo", "--param", f"table={value}", "--yes"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("warroom: bad --param table: ") and done.stderr.count("\n") == 1
    assert done.stderr.rstrip().endswith("is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)")
    assert not (tmp_path / "pwned").exists()


async def test_a_captured_value_that_does_not_fit_its_type_is_refused_before_any_prompt(
        moto, echo_dir: Path, tmp_path: Path) -> None:
    line = f"table fixture table=t;touch {tmp_path / 'pwned'}"
    captures = Matcher([echo_playbook(echo_dir)]).match(line)[0].captures
    user = ScriptedUser(inputs={"table": [None]})  # asked for instead: the user declines
    async with session(moto.endpoint) as s:
        result = await Runner(echo_playbook(echo_dir), user, s, values={**captures, "value": "v"}).run()
    (first, note), (second, asked) = user.log[:2]
    assert first == "event:note" and note.message.startswith("refused table: 't;touch ")
    assert note.message.endswith("is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -) "
                                 "(from a log line; not used)")
    assert second == "ask_input" and asked == ("table", None, None)
    assert result.aborted and [r.status for r in result.fix] == ["not_run", "not_run"]
    assert captures["table"] not in repr([p.shell for p in user.plans])
    assert not (tmp_path / "pwned").exists()


async def test_a_selected_resource_that_does_not_fit_its_type_stops_the_run_before_any_prompt(
        moto, echo_dir: Path, tmp_path: Path) -> None:
    text = PLAYBOOK.replace("{description: A table, type: table_name}",
                            "{description: A table, type: table_name, resource: table}")
    playbook, _ = load_text(text, "mine.yaml")
    user = ScriptedUser()  # any question fails the test
    async with session(moto.endpoint) as s:
        result = await Runner(playbook, user, s, values={"value": "v"}, resource="t;id",
                              resource_kind="table", audit=AuditLog(tmp_path / "audit.jsonl")).run()
    assert result.aborted and [r.status for r in result.fix] == ["not_run", "not_run"]
    assert [e.message for e in user.events if e.kind == "aborted"] == [
        "stopped (refused table: 't;id' is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)): "
        "the remaining steps were not run"]
    assert [r["kind"] for r in read(tmp_path / "audit.jsonl")] == ["aborted"]


async def test_an_edit_that_does_not_fit_its_type_is_refused_and_the_step_asked_again(
        moto, echo_dir: Path, tmp_path: Path) -> None:
    user = ScriptedUser(inputs={"cwd": [str(tmp_path)] * 3},
                        confirms=[True, Edit({"table": "x`id`"}), False])
    async with session(moto.endpoint) as s:
        runner = Runner(echo_playbook(echo_dir), user, s, values={"value": "v", "table": "good-table"})
        result = await runner.run()
    notes = [e.message for e in user.events if e.kind == "note"]
    assert notes == ["edit refused: table: 'x`id`' is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)"]
    assert [p.shell for p in user.asked("confirm")[1:]] == ["echo table good-table"] * 2
    assert [r.status for r in result.fix] == ["done", "skipped"]


def test_input_types_and_author_patterns_run_on_re2() -> None:
    table = Input("t", "Table", type="table_name")
    assert coerce(table, " my-table ") == "my-table"
    with pytest.raises(BadInput, match="is not a DynamoDB table name"):
        coerce(table, "a;b")
    # RE2 refuses what a backtracking engine would choke on; the loader says where.
    text = PLAYBOOK.replace("{description: A table, type: table_name}",
                            "{description: A table, pattern: '(a+)+\\1'}")
    _, problems = load_text(text, "mine.yaml")
    assert [str(p) for p in problems] == [
        "mine.yaml:9: params.table.pattern: regex does not compile (RE2, linear time): "
        "invalid escape sequence: \\1"]
    # The same dialect as symptom patterns: syntax RE2 and Python read differently is refused.
    _, problems = load_text(text.replace("'(a+)+\\1'", "'[a-z]{,8}'"), "mine.yaml")
    assert [str(p) for p in problems] == [
        "mine.yaml:9: params.table.pattern: write {0,N} rather than {,N} (RE2 reads it as literal text)"]
    assert misfit("abc", pattern="[a-z]{1,8}") is None and misfit("abcd", pattern="[a-z]{1,3}") is not None
    _, problems = load_text(text.replace("pattern: '(a+)+\\1'", "type: tabel"), "mine.yaml")
    assert str(problems[0]).startswith("mine.yaml:9: params.table.type: 'tabel' is not a parameter type")
    secret = Input("s", "Secret", type="secret", pattern="[a-z]+")
    with pytest.raises(BadInput) as refused:
        coerce(secret, "Hunter2!")
    assert "Hunter2" not in str(refused.value)


def test_a_default_that_does_not_fit_its_type_is_a_load_problem() -> None:
    text = PLAYBOOK.replace("{description: A table, type: table_name}",
                            "{description: A table, type: table_name, default: 'a b'}")
    _, problems = load_text(text, "mine.yaml")
    assert [str(p) for p in problems] == [
        "mine.yaml:9: params.table.default: 'a b' is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)"]


def test_every_built_in_parameter_that_feeds_a_shell_step_has_a_type() -> None:
    from warroom.playbook.catalog import load_catalog
    from warroom.playbook.template import names_in

    for playbook in load_catalog([], check_call):
        for step in playbook.fix:
            for name in names_in(step.shell or ""):
                param = playbook.param(name)
                assert param is not None and (param.type or param.pattern), (playbook.id, name)


@pytest.mark.parametrize("name, good, bad", [
    ("function_name", "bos-dev-agent-persona", "-rf"),
    ("table_name", "kiro-worker-test-locks", "ab"),
    ("bucket", "kiro-worker-test-artifacts", "a..b"),
    ("branch", "feature/my-feature", "a..b"),
    ("uuid", "0f8fad5b-d9cb-469f-a165-70867728950e", "0f8fad5b"),
    ("integer", "42", "4 2"),
    ("arn", "arn:aws:iam::123456789012:policy/Deploy", "arn:aws:iam::1:policy/x y"),
    ("npm_package", "@aws-cdk/core@2.1.0", "--global"),
    ("stack_name", "KiroWorkerCore", "1stack"),
])
def test_named_types_follow_the_aws_rules(name: str, good: str, bad: str) -> None:
    assert name in TYPES
    assert misfit(good, name) is None
    assert misfit(bad, name) is not None
    assert misfit(good + "\n", name) is not None


# -- secrets and masking -------------------------------------------------------------------

async def test_a_secret_in_a_shell_command_is_refused_not_masked(moto, tmp_path: Path) -> None:
    text = PLAYBOOK.replace("    shell: 'echo got {value}'\n",
                            "    shell: 'echo got {token}'\n    inputs:\n"
                            "      token: {prompt: Token, type: secret}\n")
    playbook, problems = load_text(text, "mine.yaml")
    assert playbook is not None, problems
    user = ScriptedUser(inputs={"token": ["s3cr3t-value"]}, failures=["skip"])
    async with session(moto.endpoint) as s:
        result = await Runner(replace(playbook, fix=playbook.fix[:1]), user, s).run()
    assert result.fix[0].status == "failed"
    assert result.fix[0].error.message.startswith("refused: {token} is a secret")
    assert not user.asked("confirm") and "s3cr3t-value" not in user.transcript()


# -- the process: environment, group, death ------------------------------------------------

async def test_a_shell_step_gets_the_runs_profile_region_and_endpoint(moto, echo_dir: Path,
                                                                    tmp_path: Path) -> None:
    Path(os.environ["AWS_CONFIG_FILE"]).write_text("[profile incident]\nregion = eu-west-3\n")
    Path(os.environ["AWS_SHARED_CREDENTIALS_FILE"]).write_text(
        "[incident]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    text = PLAYBOOK.replace("shell: 'echo got {value}'",
                            "shell: 'echo \"$AWS_PROFILE $AWS_REGION $AWS_ENDPOINT_URL\"'")
    playbook, _ = load_text(text, "mine.yaml")
    user = ScriptedUser(inputs={"cwd": [str(tmp_path)]}, confirms=[True])
    async with session(moto.endpoint, profile="incident") as s:
        await Runner(replace(playbook, fix=playbook.fix[:1]), user, s).run()
    output = [e.message for e in user.events if e.kind == "output"]
    assert output == [f"incident us-east-1 {moto.endpoint}"]


def _gone(pid: int, bound: float = 30.0) -> bool:
    """Waits on the process's pidfd (no polling by sleep); False if it outlives the bound."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], bound)
        return bool(readable)
    finally:
        os.close(fd)


async def test_cancel_kills_the_steps_whole_process_group(tmp_path: Path) -> None:
    started = asyncio.get_running_loop().create_future()

    async def line(text: str) -> None:
        if not started.done():
            started.set_result(int(text))

    task = asyncio.create_task(run_shell("sleep 300 & echo $!; wait", tmp_path, line))
    sleeper = await asyncio.wait_for(started, 60)
    assert os.getpgid(sleeper) != os.getpgrp()  # its own group, not ours
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _gone(sleeper)


PARENT = """
import asyncio, sys
from pathlib import Path
from warroom.runner.shell import run_shell

async def line(text):
    print(text, flush=True)

asyncio.run(run_shell("sleep 300 & echo $!; wait", Path.cwd(), line))
"""


def test_a_step_dies_with_warroom_even_when_warroom_is_sigkilled(tmp_path: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=tmp_path, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert parent.stdout is not None
        sleeper = int(parent.stdout.readline())
        assert not _gone(sleeper, bound=0)  # running, below a parent that is about to die
        parent.send_signal(signal.SIGKILL)
        parent.wait(60)
        assert _gone(sleeper)
    finally:
        if parent.poll() is None:
            parent.kill()


def test_leftover_background_processes_end_with_the_step(tmp_path: Path) -> None:
    pids: list[int] = []

    async def line(text: str) -> None:
        pids.append(int(text))

    status = asyncio.run(run_shell("sleep 300 >/dev/null & echo $!", tmp_path, line))
    assert status == 0 and _gone(pids[0])


# -- line mode: Ctrl-C and the typed name --------------------------------------------------

def test_ctrl_c_at_a_prompt_exits_130_at_once_and_is_audited(moto, env, tmp_path: Path) -> None:
    seed_function(moto.endpoint, "bos-dev-agent-persona", timeout=3)
    child = subprocess.Popen(
        [sys.executable, "-m", "warroom", "--endpoint-url", moto.endpoint, "fix", "lambda-timeout",
         "--resource", "bos-dev-agent-persona"],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert child.stdout is not None
        seen = b""
        while b"New timeout in seconds" not in seen:  # the first question is on screen
            readable, _, _ = select.select([child.stdout], [], [], 60)
            assert readable, seen
            chunk = os.read(child.stdout.fileno(), 4096)
            assert chunk, seen
            seen += chunk
        child.send_signal(signal.SIGINT)
        assert child.wait(60) == 130  # stdin is still open: nothing but the signal ended it
    finally:
        if child.poll() is None:
            child.kill()
    assert child.stderr is not None
    assert "interrupted" in child.stderr.read().decode()
    aborted = [r for r in audit_records(tmp_path) if r["kind"] == "aborted"]
    assert [r["reason"] for r in aborted] == ["interrupted"]


async def test_a_value_the_redactor_would_mask_refuses_the_step_before_any_prompt(
        moto, echo_dir: Path, tmp_path: Path) -> None:
    token = "ghp_" + "A1b2C3d4E5" * 4
    value = f"https://x-access-token:{token}@github.com/org/repo"
    user = ScriptedUser(failures=["skip"])  # no directory asked, no confirm
    result, records = await run_first_step(echo_dir, tmp_path, user, moto.endpoint, values={"value": value})
    assert result.fix[0].status == "failed"
    assert result.fix[0].error.message == (
        "refused: a value in this command looks like a secret and would be shown masked, "
        "but a shell command is shown exactly as it runs")
    assert result.fix[0].plan.shell == "echo got {value}"  # the template, never a masked command
    assert token not in user.transcript() and not [r for r in records if r["kind"] == "intent"]


def test_the_format_doc_lists_every_parameter_type() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "playbooks.md").read_text()
    for kind in TYPES.values():
        assert f"| `{kind.name}` | {kind.rule} |" in doc


def test_a_step_sees_sigpipe_as_a_shell_would(tmp_path: Path) -> None:
    lines: list[str] = []

    async def line(text: str) -> None:
        lines.append(text)

    # `yes` dies of SIGPIPE when `head` is done; with SIGPIPE ignored it would spin on EPIPE.
    status = asyncio.run(run_shell("yes | head -n 2; echo ${PIPESTATUS:-done}", tmp_path, line))
    assert status == 0 and lines == ["y", "y", "done"]


async def test_a_value_that_does_not_fit_is_not_shown_in_the_plans(moto, echo_dir: Path) -> None:
    async with session(moto.endpoint) as s:
        runner = Runner(echo_playbook(echo_dir), ScriptedUser(), s, values={"table": "t`id`"})
        assert [p.shell for p in runner.plans()] == ["echo got '<value>'", "echo table '<table>'"]


def test_ctrl_c_at_a_secret_prompt_on_a_terminal_exits_130_with_echo_back_on(
        moto, env, tmp_path: Path) -> None:
    import pty
    import termios

    from tests.runner_support import FIXTURES, boto

    boto(moto.endpoint, "secretsmanager").create_secret(Name="test/github-token")
    argv = [sys.executable, "-m", "warroom", "--endpoint-url", moto.endpoint, "--playbooks",
            str(FIXTURES), "fix", "test-secret-put", "--resource", "test/github-token"]
    pid, fd = pty.fork()
    if pid == 0:  # the child: warroom on a terminal
        os.execve(sys.executable, argv, env)
    try:
        seen = b""
        while not seen.endswith(b"GitHub token: "):  # the secret question is on screen
            readable, _, _ = select.select([fd], [], [], 60)
            assert readable, seen
            seen += os.read(fd, 4096)
        assert not termios.tcgetattr(fd)[3] & termios.ECHO  # not echoing while it asks
        os.write(fd, b"typed-but-not-sent\x03")  # Ctrl-C before Enter
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 130
        assert termios.tcgetattr(fd)[3] & termios.ECHO
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.close(fd)
