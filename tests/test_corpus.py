"""The catalog against the labelled corpus: right playbook first, quiet on ordinary lines."""

from __future__ import annotations

import pytest

from tests.corpus import ordinary_lines, symptom_samples
from warroom.playbook.catalog import load_catalog
from warroom.playbook.matcher import Matcher

SAMPLES = symptom_samples()
ORDINARY = ordinary_lines()


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    catalog = load_catalog()
    assert not catalog.problems, catalog.problems
    return Matcher(catalog)


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.where for s in SAMPLES])
def test_symptom_line_is_attributed_to_its_playbook(matcher: Matcher, sample) -> None:
    matches = matcher.match(sample.line)
    assert matches, f"no playbook matched {sample.line!r} ({sample.source})"
    assert matches[0].playbook == sample.playbook, (
        f"{sample.line!r}: got {[m.playbook for m in matches]}")


@pytest.mark.parametrize("where,line", ORDINARY, ids=[w for w, _ in ORDINARY])
def test_ordinary_line_is_quiet(matcher: Matcher, where: str, line: str) -> None:
    assert matcher.match(line) == [], where


def test_corpus_accuracy_meets_the_bar(matcher: Matcher) -> None:
    right = sum(1 for s in SAMPLES if (m := matcher.match(s.line)) and m[0].playbook == s.playbook)
    flagged = sum(1 for _, line in ORDINARY if matcher.match(line))
    assert SAMPLES and ORDINARY
    assert right / len(SAMPLES) >= 0.95
    assert flagged / len(ORDINARY) <= 0.02
