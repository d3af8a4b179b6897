"""The matcher: spans, captures, ranking, hostile input, and both engines agreeing."""

from __future__ import annotations

import random

import pytest

from tests.corpus import ordinary_lines, symptom_samples
from warroom.playbook.catalog import load_catalog
from warroom.playbook.literals import conjuncts, required_literals
from warroom.playbook.matcher import Matcher

hyperscan = pytest.importorskip("hyperscan")


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module", params=["python", "hyperscan"])
def matcher(request, catalog) -> Matcher:
    return Matcher(catalog, engine=request.param)


def test_span_and_captures(matcher: Matcher) -> None:
    line = "2024-05-01T10:15:32Z 3f9c Task timed out after 30.03 seconds"
    (best, *_) = matcher.match(line)
    assert best.playbook == "lambda-timeout"
    assert line[best.start:best.end] == "Task timed out after 30.03 seconds"
    assert best.captures["timeout"] == "30.03"


def test_ordinary_lines_do_not_match(matcher: Matcher) -> None:
    for line in ("START RequestId: 3f9c Version: $LATEST",
                 "REPORT RequestId: 3f9c Duration: 12.3 ms Billed Duration: 13 ms Memory Size: 512 MB",
                 "timeout=30 errors=0", ""):
        assert matcher.match(line) == []


def test_hostile_input_never_crashes(matcher: Matcher) -> None:
    huge = "x" * (1 << 20) + " Task timed out after 3 seconds"
    matcher.match(huge)  # beyond the first MiB: may or may not match, must not fail
    assert matcher.match("\x1b[31mTask timed out after 3 seconds\x07\x00")[0].playbook == "lambda-timeout"
    data = b"\xff\xfe broken \x80 Task timed out after 9 seconds\n\xc3\x28\n" + b"y" * (1 << 20)
    found = list(matcher.scan(data))
    assert [(start, m[0].playbook) for start, _, m in found] == [(0, "lambda-timeout")]


def test_block_scan_finds_every_line_the_line_matcher_finds(matcher: Matcher) -> None:
    lines = [s.line for s in symptom_samples()] + [line for _, line in ordinary_lines()]
    rng = random.Random(7)
    rng.shuffle(lines)
    lines += ["", "Task timed out after 1 seconds", "task TIMED out after 1 seconds"]
    data = "\n".join(lines).encode()
    by_line = {i for i, line in enumerate(lines) if matcher.match(line)}
    starts = {}
    offset = 0
    for i, line in enumerate(lines):
        starts[offset] = i
        offset += len(line.encode()) + 1
    by_block = {starts[start] for start, _, _ in matcher.scan(data)}
    assert by_block == by_line


def test_engines_agree_on_every_corpus_line(catalog) -> None:
    python, native = Matcher(catalog, engine="python"), Matcher(catalog, engine="hyperscan")
    assert native.engine == "hyperscan" and python.engine == "python"
    for line in [s.line for s in symptom_samples()] + [line for _, line in ordinary_lines()]:
        assert python.match(line) == native.match(line), line


def test_log_group_restriction_applies_only_when_a_group_is_given(tmp_path) -> None:
    (tmp_path / "g.yaml").write_text(
        (load_catalog().get("lambda-timeout").path and open(load_catalog().get("lambda-timeout").path).read())
        .replace("id: lambda-timeout", "id: only-in-kiro")
        .replace("priority: 80\n", "priority: 99\n    log_groups: ['/aws/lambda/kiro-*']\n", 1))
    matcher = Matcher(load_catalog([str(tmp_path)]))
    line = "Task timed out after 3.00 seconds"
    assert matcher.match(line, group="/aws/lambda/kiro-worker-test-poller")[0].playbook == "only-in-kiro"
    assert "only-in-kiro" not in [m.playbook for m in matcher.match(line, group="/aws/lambda/bos-dev-x")]
    assert matcher.match(line)[0].playbook == "only-in-kiro"


@pytest.mark.parametrize("pattern,expected", [
    (r"Task timed out after \d+", {"Task timed out after "}),
    (r"(?:ThrottlingException|Rate exceeded)", {"ThrottlingException", "Rate exceeded"}),
    (r"(?i)access ?denied", {"access denied", "accessdenied"}),
    (r'"status"\s*:\s*"?50[02]\b', {'"status"'}),
    (r"\d+ s", None),
    (r"(?:ab|cd)", None),
    # A group of literal alternatives joins the run it is in; so do a repeat's first copies.
    (r"(?:^|\s)TS(?P<code>2304|2345):\s", {"TS2304:", "TS2345:"}),
    (r"\bID: {6,10}(?P<lock_id>[0-9a-f]{8})", {"ID:      "}),
    (r"x{3}yz", {"xxxyz"}),
])
def test_required_literals(pattern: str, expected: set[str] | None) -> None:
    found = required_literals(pattern)
    assert (found[0] if found else None) == (frozenset(expected) if expected else None)


def test_match_many_equals_match_one_by_one(matcher: Matcher) -> None:
    lines = [s.line for s in symptom_samples()] + [line for _, line in ordinary_lines()]
    lines += ["multi\nline Task timed out after 2 seconds\nmore", ""]
    assert matcher.match_many(lines) == [matcher.match(line) for line in lines]


def test_empty_catalog_matches_nothing() -> None:
    assert Matcher([]).match("Task timed out after 3 seconds") == []
    assert Matcher([]).match_many(["x"]) == [[]]


def test_an_alternation_of_both_orders_requires_both_literals() -> None:
    # How a lookahead for co-occurrence is written for RE2; the prefilter needs both.
    found, _ = conjuncts(r'"routeKey".*"status":50|"status":50.*"routeKey"')
    assert {frozenset({'routeKey"'}), frozenset({'status":50'})} <= set(found)  # `"` factored out
    found, _ = conjuncts(r"(?:abc|xyz)(?:defg)+")
    assert set(found) == {frozenset({"abc", "xyz"}), frozenset({"defg"})}
