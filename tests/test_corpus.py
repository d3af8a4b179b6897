"""The catalog against the labelled corpus: right playbook first, quiet on ordinary lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import CORPUS, ordinary_lines, rows, symptom_samples
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


HELD_OUT = sorted(p for p in (CORPUS / "heldout").glob("*") if p.is_dir())


@pytest.mark.parametrize("round_dir", HELD_OUT, ids=[p.name for p in HELD_OUT])
def test_held_out_round_names_its_sources_and_its_before_figures(round_dir: Path) -> None:
    labelled = [(path.name, row) for path in sorted(round_dir.glob("*.tsv")) for _, row in rows(path)]
    assert labelled and (round_dir / "ordinary.txt").is_file()
    for name, row in labelled:
        source, tab, line = row.partition("\t")
        assert tab and source.strip() and line.strip(), f"{name}: {row!r} needs source<TAB>line"
    notes = (round_dir / "README.md").read_text(encoding="utf-8")
    assert "accuracy:" in notes and "false-positive rate:" in notes, "figures before tuning"
