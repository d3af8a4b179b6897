"""The labelled line corpus under tests/corpus: symptom lines per playbook, ordinary lines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"


@dataclass(frozen=True)
class Sample:
    playbook: str
    source: str
    line: str
    where: str


def symptom_samples() -> list[Sample]:
    """`symptoms/<playbook>.tsv`: `source<TAB>line` rows; blank lines and `#` comments skipped."""
    out = []
    for path in sorted((CORPUS / "symptoms").glob("*.tsv")):
        for n, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not row.strip() or row.startswith("#"):
                continue
            source, _, line = row.partition("\t")
            out.append(Sample(path.stem, source, line, f"{path.name}:{n}"))
    return out


def ordinary_lines() -> list[tuple[str, str]]:
    """`ordinary/*.txt`: one ordinary (non-symptom) line per row, as (where, line)."""
    out = []
    for path in sorted((CORPUS / "ordinary").glob("*.txt")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip() and not line.startswith("#"):
                out.append((f"{path.name}:{n}", line))
    return out
