"""Matching time is bounded: RE2 for every pattern, hostile 256 KiB lines, unless/compare.

Speed is measured by bench/scan.py; these tests assert results on lines that made the
backtracking engine take seconds to hours, so a regression shows as a hang or a wrong
answer here.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.adversarial import SIZE, hostile_lines
from tests.corpus import ordinary_lines, symptom_samples
from warroom.aws.service_model import check_call
from warroom.playbook.catalog import load_catalog
from warroom.playbook.linear import _UNANCHORED, Regex, RegexError
from warroom.playbook.loader import load_text
from warroom.playbook.matcher import Matcher

PLAYBOOK = textwrap.dedent("""\
    id: user-symptom
    title: A user's symptom
    service: lambda
    severity: high
    sources:
      - {file: guide.md, section: "A > B"}
    symptoms:
      - pattern: 'PATTERN'
    cause: Something.
    fix:
      - title: Look
        manual: Look at it.
    prevention: Nothing.
    """)


def user_playbook(symptom: str) -> str:
    """PLAYBOOK with its one symptom replaced by `symptom` (YAML, a list item)."""
    return PLAYBOOK.replace("  - pattern: 'PATTERN'\n", textwrap.indent(symptom, "  "))


def problems_of(text: str) -> list[str]:
    _, problems = load_text(text, "pb.yaml", check_call)
    return [str(p) for p in problems]


@pytest.fixture(scope="module")
def catalog():
    catalog = load_catalog()
    assert not catalog.problems, catalog.problems
    return catalog


@pytest.fixture(scope="module")
def matcher(catalog) -> Matcher:
    return Matcher(catalog)


# -- hostile lines built from every built-in pattern ------------------------------------


def test_hostile_256k_lines_match_as_their_small_twins(catalog, matcher: Matcher) -> None:
    # Each family at 256 KiB gives the same playbooks as at 2 KiB, which the backtracking
    # engine can still check (next test): blowing a part up changes nothing but the time.
    count = 0
    for big, small in zip(hostile_lines(catalog), hostile_lines(catalog, small=True), strict=True):
        assert len(big.line) >= SIZE
        got = sorted(m.playbook for m in matcher.match(big.line))
        assert got == sorted(m.playbook for m in matcher.match(small.line)), (big.family, big.source)
        count += 1
    assert count > 3000


def test_re2_agrees_with_python_re_on_the_small_twins(catalog) -> None:
    """Spans and captures of every candidate pattern, RE2 against `re` (same patterns)."""
    candidates = Matcher(catalog)  # its prefilter (no RE2) names each line's candidates
    compiled = {id(e): re.compile(e.symptom.pattern, re.ASCII | (re.I if e.symptom.ignore_case else 0))
                for e in candidates._leads}
    for hostile in hostile_lines(catalog, small=True):
        line = hostile.line
        for pattern in candidates.prefilter.line(line):
            entry = candidates._leads[pattern]
            want = compiled[id(entry)].search(line)
            got = entry.symptom.regex.search(line)
            assert (got and (got.span(), [got.group(i) for i in range(len(got.spans))])) == (
                want and (want.span(), [want.group(i) for i in range(1 + len(want.groups()))])), (
                hostile.family, hostile.source, entry.symptom.pattern)


def test_the_issue_cdk_line_at_256k(matcher: Matcher) -> None:
    # Quadratic under `re`: 16 s at 16 KB, not done in 60 s at 256 KiB.
    head = "src/app.ts:12:5 - " + " " * SIZE
    assert "cdk-typescript-compile" not in [m.playbook for m in matcher.match(head + " error TSx")]
    (best, *_) = matcher.match(head + " error TS2322: Type 'string' is not assignable")
    assert best.playbook == "cdk-typescript-compile"
    assert best.captures["file"] == "src/app.ts" and best.captures["code"] == "2322"


@pytest.mark.parametrize("engine", ["python", "hyperscan"])
def test_a_line_repeating_a_literal_still_finds_every_symptom(catalog, engine: str) -> None:
    # Hyperscan reports each of the 20,000 literals; past a few the line is read once more
    # per pattern instead: what is found must not change.
    matcher = Matcher(catalog, engine=engine)
    line = "SyntaxError: " * 20_000 + "Task timed out after 3.00 seconds"
    expected = ["lambda-timeout"]
    assert [m.playbook for m in matcher.match(line)] == expected
    assert [[m.playbook for m in ms] for ms in matcher.match_many(["ok", line, "ok"])] == [[], expected, []]
    data = f"first\n{line}\nTask timed out after 1 seconds\n".encode()
    assert [(start, ms[0].playbook) for start, _, ms in matcher.scan(data)] == [
        (6, "lambda-timeout"), (6 + len(line) + 1, "lambda-timeout")]


# -- patterns RE2 cannot run, in user playbooks ----------------------------------------


def test_nested_quantifier_loads_and_scan_returns(tmp_path: Path) -> None:
    (tmp_path / "pb.yaml").write_text(user_playbook("- pattern: 'ERRX(a+)+$'\n"))
    hostile = "ERRX" + "a" * SIZE
    data = f"{hostile}!\n{hostile}\n".encode()
    result = subprocess.run([sys.executable, "-m", "warroom", "scan", "--json", "--playbooks",
                             str(tmp_path), "-"], input=data, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [(r["line"], [m["playbook"] for m in r["matches"]]) for r in records] == [(2, ["user-symptom"])]


@pytest.mark.parametrize("pattern,detail", [
    (r"Task timed out(?= after)", "(?="),
    (r"(?<!no )Task timed out", "(?<!"),
    (r"(?P<n>\d+) of (?P=n) failed", "(?P"),
])
def test_lookaround_or_backreference_is_reported_where_it_is(pattern: str, detail: str) -> None:
    text = user_playbook(f"- pattern: '{pattern}'\n")
    (problem,) = problems_of(text)
    assert problem.startswith("pb.yaml:8: symptoms[0].pattern: regex does not compile (RE2")
    assert detail in problem and "unless/compare" in problem


def test_validate_reports_it_and_the_rest_still_load(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(user_playbook("- pattern: 'Task timed out(?! after)'\n"))
    good = user_playbook("- pattern: 'ERRX(a+)+$'\n").replace("id: user-symptom", "id: user-good")
    (tmp_path / "good.yaml").write_text(good)
    result = subprocess.run([sys.executable, "-m", "warroom", "playbooks", "validate", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "bad.yaml:8: symptoms[0].pattern: regex does not compile (RE2" in result.stderr
    assert "good.yaml" not in result.stderr
    catalog = load_catalog([str(tmp_path)])
    assert catalog.get("user-good") is not None and catalog.get("user-symptom") is None


def test_context_pattern_on_log_text_is_re2_too() -> None:
    rule = "context:\n  role: {from: message, pattern: '(?<=role/)(?P<role>\\w+)'}\n"
    text = PLAYBOOK.replace("cause:", rule + "cause:")
    assert problems_of(text.replace("'PATTERN'", "'ERRX'")) == [
        "pb.yaml:10: context.role.pattern: regex does not compile (RE2, linear time): "
        "invalid perl operator: (?<=; lookarounds and backreferences take no linear time: "
        "say it with unless/compare"]


@pytest.mark.parametrize("pattern,expected", [
    ("ERRX a{,3}", "write {0,N} rather than {,N}"),  # RE2 would read it as text
    ("ERRX[[:digit:]]", "write the class out"),      # Python would read it as characters
    (r"ERRX\z", r"RE2-only syntax, which the literal prefilter cannot read: bad escape \z"),
    (r"ERRX\pL", r"RE2-only syntax, which the literal prefilter cannot read: bad escape \p"),
])
def test_syntax_the_two_parsers_read_differently_is_refused(pattern: str, expected: str) -> None:
    (problem,) = problems_of(user_playbook(f"- pattern: '{pattern}'\n"))
    assert problem.startswith(f"pb.yaml:8: symptoms[0].pattern: {expected}")


# -- unless and compare --------------------------------------------------------------


def test_unless_vetoes_the_line() -> None:
    text = user_playbook(textwrap.dedent("""\
        - pattern: 'Secrets Manager can''t find the specified secret'
          unless: 'specified secret VALUE'
          ignore_case: true
          examples: ['ResourceNotFoundException: Secrets Manager can''t find the specified secret.']
        """))
    playbook, problems = load_text(text, "pb.yaml", check_call)
    assert not problems and playbook is not None
    matcher = Matcher([playbook])
    assert matcher.match("Secrets Manager can't find the specified secret.")
    assert matcher.match("secrets manager can't find the specified secret value.") == []  # caseless too


def test_compare_between_captures(catalog) -> None:
    matcher = Matcher(catalog)
    report = "REPORT RequestId: 3f9c\tDuration: 9.1 ms\tMemory Size: {size} MB\tMax Memory Used: {used} MB"
    full = matcher.match(report.format(size=512, used=512))
    assert full and full[0].playbook == "lambda-out-of-memory"
    assert full[0].captures == {"memory": "512", "used": "512"}
    assert matcher.match(report.format(size=512, used=511)) == []
    # Like the backreference it replaces, a later pair on the line may satisfy it.
    both = report.format(size=512, used=100) + " " + report.format(size=256, used=256)
    assert matcher.match(both)[0].captures == {"memory": "256", "used": "256"}


@pytest.mark.parametrize("op,used,expected", [
    ("'>='", "512", True), ("'>='", "1024", True), ("'>='", "64", False),
    ("'<'", "64", True), ("'!='", "512", False), ("'=='", "0512", True),  # numbers compare as numbers
])
def test_compare_operators(op: str, used: str, expected: bool) -> None:
    text = user_playbook(textwrap.dedent(f"""\
        - pattern: 'Memory Size: (?P<size>\\d+) MB Max Memory Used: (?P<used>\\d+) MB'
          compare: {{left: used, op: {op}, right: size}}
        """))
    playbook, problems = load_text(text, "pb.yaml", check_call)
    assert not problems and playbook is not None
    line = f"Memory Size: 512 MB Max Memory Used: {used} MB"
    assert bool(Matcher([playbook]).match(line)) is expected


@pytest.mark.parametrize("extra,expected", [
    ("unless: 'x(?=y)'", "pb.yaml:9: symptoms[0].unless: regex does not compile (RE2"),
    ("compare: {left: nope, op: '==', right: size}",
     "pb.yaml:9: symptoms[0].compare.left: 'nope' is not a named group (?P<nope>...) of the pattern"),
    ("compare: {left: used, op: '=~', right: size}", "pb.yaml:9: symptoms[0].compare.op: '=~' is not one of"),
    ("compare: {left: used, op: '=='}", "pb.yaml:9: symptoms[0].compare.right: required field is missing"),
    ("compare: {left: used, op: '==', right: size, by: x}",
     "pb.yaml:9: symptoms[0].compare.by: unknown field"),
    ("compare: used == size", "pb.yaml:9: symptoms[0].compare: must be a mapping"),
    ("unless: 'Used: 1 MB'\n  examples: ['Memory Size: 1 MB Max Memory Used: 1 MB']",
     "pb.yaml:10: symptoms[0].examples[0]: example is vetoed by unless/compare"),
])
def test_unless_and_compare_problems_are_located(extra: str, expected: str) -> None:
    text = user_playbook(
        "- pattern: 'Memory Size: (?P<size>\\d+) MB Max Memory Used: (?P<used>\\d+) MB'\n  " + extra + "\n")
    found = problems_of(text)
    assert any(p.startswith(expected) for p in found), found


# -- the engine itself -----------------------------------------------------------------


def test_spans_are_characters_not_bytes() -> None:
    line = "é€😀 Task timed out after 3 seconds ü"
    regex = Regex(r"timed out after (?P<n>\d+)")
    found, want = regex.search(line), re.search(r"timed out after (?P<n>\d+)", line)
    assert found is not None and want is not None
    assert found.span() == want.span() and found.group("n") == "3" and found.group(0) == want.group(0)
    assert [f.span() for f in Regex("é|😀").finditer("aé😀b😀")] == [(1, 2), (2, 3), (4, 5)]


def test_regex_error_is_one_line() -> None:
    with pytest.raises(RegexError) as caught:
        Regex("(unclosed")
    assert "\n" not in str(caught.value) and "missing )" in str(caught.value)


def test_numbered_groups_fill_the_value_they_number() -> None:
    # RE2 wants distinct names: alternatives capturing one value are `x`, `x2`, `x3`.
    regex = Regex(r"a(?P<table>\w+)|b(?P<table2>\w+)|c(?P<code4>\d)")
    assert regex.search("bT1").groupdict() == {"table": "T1", "code4": None}
    assert regex.search("aT2").groupdict() == {"table": "T2", "code4": None}
    assert regex.search("c7").groupdict() == {"table": None, "code4": "7"}  # no `code`: its own name


def test_a_short_text_is_searched_as_the_unanchored_dfa_would(matcher: Matcher) -> None:
    """`Regex.spans` reads a short text through a lazy prefix, anchored at its start: it
    must find what RE2's unanchored search finds, group for group, from any character."""
    lines = [s.line for s in symptom_samples()] + [line for _, line in ordinary_lines()]
    compared = found = 0
    for line in lines:
        data = line.encode()
        if len(data) > Regex.HEAD_MAX:
            continue
        lower = line.lower()
        starts = {0, len(line[:1].encode()), len(line[: len(line) // 2].encode())}
        for entry in matcher.entries:
            if not entry.admits(line, lower):
                continue
            regex = entry.symptom.regex
            for pos in starts:
                want = regex._match(_UNANCHORED, data, pos, len(data))  # noqa: SLF001 - the reference
                assert regex.spans(data, pos) == want, (line, pos, regex.pattern)
                compared += 1
                found += want[0][0] >= 0
    assert compared > 20_000 and found > 5_000


@pytest.mark.parametrize(("pattern", "text", "span"), [
    (r"^ERROR", "x ERROR", None),                  # `^` is the text's start, not the prefix's end
    (r"\bfail", "xfail fail", (6, 10)),            # a word boundary sees the character before
    (r"a+?|ab", "xaab", (1, 2)),                    # leftmost first, then the preferred alternative
    (r"(?i)timeout", "TIMEOUT", (0, 7)),
    (r"b$", "ab\nab", (4, 5)),                     # `$` is the text's end
])
def test_the_lazy_prefix_keeps_re2s_reading(pattern: str, text: str, span: tuple[int, int] | None) -> None:
    found = Regex(pattern).search(text)
    assert (found.span() if found else None) == span
    assert (found.span() if found else None) == (m.span() if (m := re.search(pattern, text)) else None)


def test_a_lone_surrogate_is_searched_as_bytes() -> None:
    # From a JSON `\ud800` escape: not valid UTF-8, so the DFA reads it byte by byte.
    line = "\ud800 Task timed out after 3.00 seconds"
    found = Regex(r"timed out after (?P<s>[\d.]+)").search(line)
    assert found is not None and found.group("s") == "3.00" and found.span() == (7, 27)
