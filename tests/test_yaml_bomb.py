"""A playbook file cannot make the loader hang or crash: alias bombs, self-reference, depth."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from warroom.playbook.loader import load_text
from warroom.playbook.nodes import MAX_ALIAS_NODES, MAX_DEPTH

HEADER = textwrap.dedent("""\
    id: bomb
    title: Bomb
    service: lambda
    severity: low
    sources: [{file: guide.md, section: A}]
    symptoms:
      - pattern: 'BOMBXYZ happened'
    cause: x
    prevention: y
    fix:
      - title: f
        manual: do it
    diagnose:
      - title: d
        call: lambda.get_function_configuration
        params:
    """)
# Nine levels of nine: 9**9 strings once expanded, a few hundred bytes on disk.
LEVELS = "abcdefghi"
BOMB = HEADER + '      a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"      {name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n" for prev, name in zip(LEVELS, LEVELS[1:]))
# Sizes once expanded: a=10, b=91, c=820, d=7381; the first *d is where the bound is passed.
BOMB_LINE = HEADER.count("\n") + 5
TIMEOUT_LINE = "2024-05-01T10:15:32Z 3f9c Task timed out after 30.03 seconds"


def warroom(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    # The timeout only keeps a regression from hanging the suite; it asserts nothing.
    return subprocess.run([sys.executable, "-m", "warroom", *args], input=stdin, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})


def test_alias_bomb_is_a_located_problem_for_validate(tmp_path: Path) -> None:
    (tmp_path / "bomb.yaml").write_text(BOMB)
    result = warroom("playbooks", "validate", str(tmp_path))
    assert result.returncode == 2
    assert f"bomb.yaml:{BOMB_LINE}: YAML aliases expand to more than {MAX_ALIAS_NODES} nodes" in result.stderr


def test_scan_skips_the_bomb_and_the_rest_of_the_catalog_still_matches(tmp_path: Path) -> None:
    (tmp_path / "bomb.yaml").write_text(BOMB)
    result = warroom("scan", "--playbooks", str(tmp_path), stdin=TIMEOUT_LINE + "\nBOMBXYZ happened\n")
    assert result.returncode == 0
    assert "lambda-timeout" in result.stdout and "bomb" not in result.stdout
    assert f"bomb.yaml:{BOMB_LINE}: YAML aliases expand" in result.stderr


def test_aliases_anywhere_count_even_in_keys_and_symptoms() -> None:
    # The bomb sits in a mapping key of another section: every walker would expand it.
    # Up to x3 the aliases add 8,289 nodes, under the bound; the key's *x3 passes it.
    laughs = "".join(f"x{n}: &x{n} [{', '.join([f'*x{n - 1}'] * 9)}]\n" for n in range(1, 4))
    text = "x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + laughs + "? [*x3, *x3]\n: value\n"
    playbook, problems = load_text(text, "keys.yaml")
    assert playbook is None
    assert [str(p) for p in problems] == [
        f"keys.yaml:5: YAML aliases expand to more than {MAX_ALIAS_NODES} nodes"]


def test_an_alias_to_its_own_parent_is_a_problem_not_a_recursion_error() -> None:
    playbook, problems = load_text(HEADER + "      loop: &loop [1, *loop]\n", "loop.yaml")
    assert playbook is None
    assert [str(p) for p in problems] == [
        f"loop.yaml:{HEADER.count(chr(10)) + 1}: YAML alias refers to a node that contains it"]


def test_deep_nesting_is_a_problem_not_a_recursion_error() -> None:
    depth = MAX_DEPTH + 10
    playbook, problems = load_text(HEADER + "      deep: " + "[" * depth + "]" * depth + "\n", "deep.yaml")
    assert playbook is None
    assert len(problems) == 1 and f"YAML nested deeper than {MAX_DEPTH} levels" in str(problems[0])
    assert str(problems[0]).startswith(f"deep.yaml:{HEADER.count(chr(10)) + 1}: ")


def test_small_anchors_still_load() -> None:
    text = (HEADER.replace("    params:\n", "    params: &fn {FunctionName: bos-dev-api}\n")
            + "  - title: again\n    call: lambda.get_function_configuration\n    params: *fn\n")
    playbook, problems = load_text(text, "ok.yaml")
    assert problems == [] and playbook is not None
    assert [s.params for s in playbook.diagnose] == [{"FunctionName": "bos-dev-api"}] * 2
