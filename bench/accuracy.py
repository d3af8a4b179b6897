"""Symptom-recognition accuracy of the playbook catalog on a labelled corpus directory.

A corpus directory holds symptom lines as `<playbook-id>.tsv` (`source<TAB>line` rows) and
ordinary lines (that must match nothing) as `*.txt`, one per row; either directly in the
directory (held-out layout: `<id>.tsv` + `ordinary.txt`) or under `symptoms/` and
`ordinary/` (the layout of tests/corpus). Blank rows and rows starting with `#` are skipped.

Prints per-playbook hits/misses (with the missed lines and what matched them instead),
overall top-match accuracy and the ordinary false-positive rate (with the flagged lines).

Run: .venv/bin/python bench/accuracy.py [DIR ...] [--quiet] [--engine auto|python|hyperscan]
(default DIR: tests/corpus)
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from warroom.playbook.catalog import load_catalog  # noqa: E402
from warroom.playbook.matcher import Matcher  # noqa: E402


def _rows(path: Path) -> list[tuple[int, str]]:
    return [(n, row) for n, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if row.strip() and not row.startswith("#")]


def load_corpus(directory: Path) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(playbook, where, line) symptom samples and (where, line) ordinary lines."""
    sym_dir = directory / "symptoms" if (directory / "symptoms").is_dir() else directory
    ord_dir = directory / "ordinary" if (directory / "ordinary").is_dir() else directory
    samples = []
    for path in sorted(sym_dir.glob("*.tsv")):
        for n, row in _rows(path):
            _source, _, line = row.partition("\t")
            samples.append((path.stem, f"{path.name}:{n}", line))
    ordinary = [(f"{path.name}:{n}", row) for path in sorted(ord_dir.glob("*.txt"))
                for n, row in _rows(path)]
    return samples, ordinary


def evaluate(matcher: Matcher, directory: Path, quiet: bool = False) -> tuple[float, float]:
    samples, ordinary = load_corpus(directory)
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses: dict[str, list[str]] = defaultdict(list)
    for playbook, where, line in samples:
        found = matcher.match(line)
        if found and found[0].playbook == playbook:
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
    return acc, fpr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path, default=[ROOT / "tests" / "corpus"])
    parser.add_argument("--quiet", action="store_true", help="counts only, no missed lines")
    parser.add_argument("--engine", default="auto", choices=["auto", "python", "hyperscan"])
    args = parser.parse_args()
    catalog = load_catalog()
    if catalog.problems:
        for problem in catalog.problems:
            print(problem, file=sys.stderr)
        return 2
    matcher = Matcher(catalog, engine=args.engine)
    for directory in args.dirs:
        evaluate(matcher, directory, args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
