"""The loader reports every problem as FILE:LINE: field: message, and loads valid playbooks."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from warroom.aws.service_model import check_call
from warroom.playbook.catalog import load_catalog, load_layer
from warroom.playbook.loader import load_text

VALID = textwrap.dedent("""\
    id: demo-timeout
    title: Demo timed out
    service: lambda
    severity: high
    sources:
      - {file: guide.md, section: "A > B"}
    params:
      function: {description: Function name, resource: function}
    symptoms:
      - pattern: 'Task timed out after (?P<timeout>\\d+) seconds'
    cause: It ran too long.
    diagnose:
      - title: Read the configuration
        call: lambda.get_function_configuration
        params: {FunctionName: '{function}'}
    fix:
      - title: Raise the timeout
        call: lambda.update_function_configuration
        params: {FunctionName: '{function}', Timeout: '{new_timeout}'}
        inputs: {new_timeout: {prompt: Seconds, type: int, default: 60}}
    prevention: Alarm on duration.
    """)


def problems_of(text: str) -> list[str]:
    playbook, problems = load_text(text, "pb.yaml", check_call)
    assert playbook is None
    return [str(p) for p in problems]


def test_valid_playbook_loads() -> None:
    playbook, problems = load_text(VALID, "pb.yaml", check_call)
    assert problems == []
    assert playbook is not None and playbook.id == "demo-timeout"
    assert playbook.fix[0].mutating and not playbook.diagnose[0].mutating


@pytest.mark.parametrize("old,new,expected", [
    ("severity: high", "severity: urgent", "pb.yaml:4: severity: 'urgent' is not one of"),
    ("cause: It ran too long.\n", "", "pb.yaml:1: cause: required field is missing"),
    ("title: Demo timed out", "title: Demo timed out\ncolour: red", "pb.yaml:3: colour: unknown field"),
    ("(?P<timeout>\\d+)", "(?P<timeout>\\d+", "pb.yaml:10: symptoms[0].pattern: regex does not compile"),
    ("call: lambda.update_function_configuration", "call: lambda.update_function_config",
     "pb.yaml:18: fix[0].call: botocore's 'lambda' has no operation 'update_function_config'"),
    ("call: lambda.get_function_configuration", "call: lamda.get_function_configuration",
     "pb.yaml:14: diagnose[0].call: botocore knows no service 'lamda'"),
    ("Timeout: '{new_timeout}'}", "Timeout: '{new_timeout}', Colour: red}",
     "pb.yaml:19: fix[0].params.Colour: 'Colour' is not a parameter of lambda.update_function_configuration"),
    ("{FunctionName: '{function}'}\nfix", "{FunctionName: '{fn}'}\nfix",
     "pb.yaml:15: diagnose[0].params: '{fn}' is not defined"),
    ("call: lambda.get_function_configuration", "call: lambda.delete_function",
     "pb.yaml:14: diagnose[0].call: diagnose steps must be read-only calls"),
    ("'Task timed out after (?P<timeout>\\d+) seconds'", "'\\d+ s'",
     "pb.yaml:10: symptoms[0].pattern: no literal text of 3+ characters"),
    ("sources:\n  - {file: guide.md, section: \"A > B\"}", "sources: []",
     "pb.yaml:5: sources: must not be empty"),
])
def test_each_problem_is_located(old: str, new: str, expected: str) -> None:
    assert old in VALID
    found = problems_of(VALID.replace(old, new, 1))
    assert any(p.startswith(expected) for p in found), found


def test_yaml_syntax_error_names_the_line() -> None:
    found = problems_of(VALID.replace("title: Demo timed out", "title: [Demo timed out"))
    assert len(found) == 1 and found[0].startswith("pb.yaml:3: YAML syntax:"), found


def test_all_problems_are_reported_at_once() -> None:
    text = VALID.replace("severity: high", "severity: urgent").replace("title: Demo timed out\n", "")
    found = problems_of(text)
    assert any("severity" in p for p in found) and any("title: required" in p for p in found)


def test_destructive_step_needs_a_typed_name() -> None:
    text = VALID.replace("call: lambda.update_function_configuration", "call: lambda.delete_function") \
        .replace(", Timeout: '{new_timeout}'", "")
    assert any("confirm_name" in p for p in problems_of(text))


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_duplicate_id_in_one_layer_is_a_problem(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", VALID)
    write(tmp_path, "b.yaml", VALID)
    layer = load_layer([tmp_path])
    assert len(layer) == 1
    (problem,) = layer.problems
    assert problem.file.endswith("b.yaml") and problem.field == "id"
    assert problem.message == f"duplicate id 'demo-timeout' (also in {layer.playbooks['demo-timeout'].path})"


def test_user_directory_overrides_and_broken_file_is_skipped(tmp_path: Path) -> None:
    write(tmp_path, "lambda-timeout.yaml", VALID.replace("demo-timeout", "lambda-timeout")
          .replace("Demo timed out", "Our own timeout playbook"))
    write(tmp_path, "broken.yaml", "id: [unclosed\n")
    catalog = load_catalog([str(tmp_path)])
    assert catalog.get("lambda-timeout").title == "Our own timeout playbook"
    broken = [str(p) for p in catalog.problems if "broken.yaml" in p.file]
    assert len(broken) == 1 and "YAML syntax" in broken[0]
    assert len(catalog) == len(load_catalog())  # nothing else lost


def test_builtin_catalog_is_valid_against_botocore() -> None:
    catalog = load_catalog(check_call=check_call)
    assert [str(p) for p in catalog.problems] == []
    assert catalog.get("lambda-timeout") is not None


def test_warroom_playbooks_variable_adds_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    write(first, "x.yaml", VALID.replace("demo-timeout", "from-env-a"))
    write(second, "y.yaml", VALID.replace("demo-timeout", "from-env-b"))
    monkeypatch.setenv("WARROOM_PLAYBOOKS", f"{first}:{second}")
    catalog = load_catalog()
    assert catalog.get("from-env-a") is not None and catalog.get("from-env-b") is not None
    assert catalog.get("lambda-timeout") is not None
