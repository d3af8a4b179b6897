"""Symptom-recognition accuracy of the playbook catalog on a labelled corpus directory.

A corpus directory holds symptom lines as `<playbook-id>.tsv` (`source<TAB>line` rows) and
ordinary lines (that must match nothing) as `*.txt`, one per row; either directly in the
directory (held-out layout: `<id>.tsv` + `ordinary.txt`) or under `symptoms/` and
`ordinary/` (the layout of tests/corpus). Blank rows and rows starting with `#` are skipped.

Prints per-playbook hits/misses (with the missed lines and what matched them instead),
overall top-match accuracy and the ordinary false-positive rate (with the flagged lines).
For a held-out round it also prints the accuracy by kind of source (lines quoted from a page,
written from a tool's `template:`, or `synthetic:`) and the sources themselves; the figures
measured before tuning on the round are in its README.md, and a last table sets them beside
each round's figures now. How lines are labelled, and the calls the tuned corpus has settled:
tests/corpus/LABELLING.md.

Run: .venv/bin/python bench/accuracy.py [DIR ...] [--quiet] [--engine auto|python|hyperscan]
(default: tests/corpus and every held-out round under tests/corpus/heldout/)
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.corpus import rows  # noqa: E402
from warroom.playbook.catalog import load_catalog  # noqa: E402
from warroom.playbook.matcher import Matcher  # noqa: E402


def load_corpus(directory: Path) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str]]]:
    """(playbook, where, line, source) symptom samples and (where, line) ordinary lines."""
    sym_dir = directory / "symptoms" if (directory / "symptoms").is_dir() else directory
    ord_dir = directory / "ordinary" if (directory / "ordinary").is_dir() else directory
    samples = []
    for path in sorted(sym_dir.glob("*.tsv")):
        for n, row in rows(path):
            source, _, line = row.partition("\t")
            samples.append((path.stem, f"{path.name}:{n}", line, source))
    ordinary = [(f"{path.name}:{n}", row) for path in sorted(ord_dir.glob("*.txt"))
                for n, row in rows(path)]
    return samples, ordinary


def source_kind(source: str) -> str:
    """`synthetic`, `template` (written in a tool's shape) or `quoted` (from a page or issue)."""
    head = source.split(":", 1)[0]
    return head if head in ("synthetic", "template") else "quoted"


def evaluate(matcher: Matcher, directory: Path, quiet: bool = False) -> tuple[float, float]:
    samples, ordinary = load_corpus(directory)
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses: dict[str, list[str]] = defaultdict(list)
    for playbook, where, line, source in samples:
        found = matcher.match(line)
        hit = bool(found) and found[0].playbook == playbook
        by_kind[source_kind(source)][0 if hit else 1] += 1
        if hit:
            per[playbook][0] += 1
        else:
            per[playbook][1] += 1
            got = ",".join(m.playbook for m in found) or "-"
            misses[playbook].append(f"      {where} got [{got}]: {line[:160]}")
    flagged = []
    for where, line in ordinary:
        found = matcher.match(line)
        if found:
            flagged.append(f"    {where} [{found[0].playbook}]: {line[:160]}")

    print(f"== {directory}")
    print(f"  {'playbook':34} hits miss")
    for playbook in sorted(per):
        hit, miss = per[playbook]
        print(f"  {playbook:34} {hit:4} {miss:4}")
        if not quiet:
            for m in misses[playbook]:
                print(m)
    right = sum(h for h, _ in per.values())
    acc = right / len(samples) if samples else 0.0
    fpr = len(flagged) / len(ordinary) if ordinary else 0.0
    print(f"  symptom lines: {len(samples)}  right: {right}  accuracy: {acc:.1%}")
    print(f"  ordinary lines: {len(ordinary)}  flagged: {len(flagged)}  false-positive rate: {fpr:.1%}")
    if not quiet:
        for f in flagged:
            print(f)
    if not (directory / "symptoms").is_dir():
        report_sources(samples, by_kind, quiet)
        before = before_tuning(directory)
        if before:
            print("  before tuning (README.md):")
            for row in before:
                print(f"  {row}")
    return acc, fpr


def before_tuning(directory: Path) -> list[str]:
    """The figures a held-out round's README.md records as measured before tuning on it."""
    notes = directory / "README.md"
    if not notes.is_file():
        return []
    return [row for row in notes.read_text(encoding="utf-8").splitlines() if row.startswith("    ")]


def summary(results: list[tuple[Path, float, float]]) -> None:
    """One row per held-out round: right and flagged now, and as first measured."""
    rounds = [r for r in results if not (r[0] / "symptoms").is_dir()]
    if len(rounds) < 2:
        return
    print("== held-out rounds: now (after tuning) / before tuning on them (README.md)")
    counts = []
    for directory, acc, fpr in sorted(rounds, key=lambda r: _round_number(r[0])):
        before = before_tuning(directory)
        right = next((row.split("accuracy:")[1].strip() for row in before if "accuracy:" in row), "-")
        flagged = next((row.split("rate:")[1].strip() for row in before if "positive rate:" in row), "-")
        print(f"  {directory.name:10} right {acc:6.1%} / {right:>6}   flagged {fpr:5.1%} / {flagged:>5}")
        counts.append((directory.name, _first_counts(before)))
    # Every round's lines together, as first measured: the figure the goal is about.
    for label, chosen in (("all rounds", counts), ("last five", counts[-5:])):
        known = [c for _, c in chosen if c is not None]
        if known:
            lines, right_, ordinary, flagged_ = (sum(c[i] for c in known) for i in range(4))
            print(f"  before tuning, {label} ({chosen[0][0]}..{chosen[-1][0]}): {right_}/{lines} right "
                  f"({right_ / lines:.1%}), {flagged_}/{ordinary} ordinary flagged ({flagged_ / ordinary:.1%})")


def _first_counts(before: list[str]) -> tuple[int, int, int, int] | None:
    """(symptom lines, right, ordinary lines, flagged) of the first figures a README records."""
    sym = next((row.split() for row in before if "symptom lines:" in row and "right:" in row), None)
    ords = next((row.split() for row in before if "ordinary lines:" in row and "flagged:" in row), None)
    if sym is None or ords is None:
        return None
    return (int(sym[sym.index("lines:") + 1]), int(sym[sym.index("right:") + 1]),
            int(ords[ords.index("lines:") + 1]), int(ords[ords.index("flagged:") + 1]))


def _round_number(directory: Path) -> tuple[int, str]:
    digits = "".join(ch for ch in directory.name if ch.isdigit())
    return (int(digits) if digits else 0, directory.name)


def report_sources(samples: list[tuple[str, str, str, str]], by_kind: dict[str, list[int]],
                   quiet: bool) -> None:
    """A held-out round's accuracy by kind of source, then each source with its row count."""
    for kind in sorted(by_kind):
        hit, miss = by_kind[kind]
        print(f"  {kind + ' lines:':16} {hit}/{hit + miss} right ({hit / (hit + miss):.1%})")
    sources = Counter(source for *_, source in samples)
    print(f"  sources: {len(sources)}")
    if not quiet:
        for source, rows in sorted(sources.items()):
            print(f"    {rows:3}  {source}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    corpus = ROOT / "tests" / "corpus"
    rounds = sorted(p for p in (corpus / "heldout").glob("*") if p.is_dir())
    parser.add_argument("dirs", nargs="*", type=Path, default=[corpus, *rounds])
    parser.add_argument("--quiet", action="store_true", help="counts only, no missed lines")
    parser.add_argument("--engine", default="auto", choices=["auto", "python", "hyperscan"])
    args = parser.parse_args()
    catalog = load_catalog()
    if catalog.problems:
        for problem in catalog.problems:
            print(problem, file=sys.stderr)
        return 2
    matcher = Matcher(catalog, engine=args.engine)
    results = [(directory, *evaluate(matcher, directory, args.quiet)) for directory in args.dirs]
    summary(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
