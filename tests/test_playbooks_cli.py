"""`warroom playbooks list|show|validate`, run from another directory as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def warroom(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "warroom", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def test_list_and_show_from_another_directory(tmp_path: Path) -> None:
    listed = warroom("playbooks", "list", cwd=tmp_path)
    assert listed.returncode == 0 and "lambda-timeout" in listed.stdout
    shown = warroom("playbooks", "show", "lambda-timeout", cwd=tmp_path)
    assert shown.returncode == 0
    for heading in ("Sources:", "Symptoms:", "Cause:", "Diagnose (read-only):", "Fix:", "Prevention:"):
        assert heading in shown.stdout
    assert "Lambda Function Errors > Error: Timeout" in shown.stdout


def test_show_unknown_id(tmp_path: Path) -> None:
    result = warroom("playbooks", "show", "no-such-thing", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "warroom: no playbook with id 'no-such-thing' (see `warroom playbooks list`)"


def test_validate_reports_all_problems_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "one.yaml").write_text("id: One\ntitle: x\n")
    (tmp_path / "two.yaml").write_text("id: [\n")
    result = warroom("playbooks", "validate", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert any(line.startswith(f"{tmp_path.name}/one.yaml:1: id: must be lower-case") or
               "one.yaml:1: id: must be lower-case" in line for line in lines)
    assert any("one.yaml:1: service: required field is missing" in line for line in lines)
    assert any("two.yaml:" in line and "YAML syntax" in line for line in lines)


def test_styles_ship_with_the_package(tmp_path: Path) -> None:
    code = "from warroom.playbook.catalog import data_dir; print(data_dir('styles'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert list(Path(out.stdout.strip()).glob("*.tcss"))


def test_global_options_work_after_the_command() -> None:
    from warroom.cli import hoist_global_options

    assert hoist_global_options(["fix", "x", "--audit-log", "a.jsonl", "--yes", "--region=eu-west-1",
                                 "--read-only"]) == [
        "--audit-log", "a.jsonl", "--region=eu-west-1", "--read-only", "fix", "x", "--yes"]
    assert hoist_global_options(["scan", "--", "--region"]) == ["scan", "--", "--region"]
