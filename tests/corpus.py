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


def rows(path: Path) -> list[tuple[int, str]]:
    """A corpus file's numbered rows, without blank lines and comments. A comment is `#` alone
    or followed by a space: printed lines such as `##[debug]...` or `#4 ERROR ...` are rows."""
    return [(n, row) for n, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if row.strip() and row.rstrip() != "#" and not row.startswith("# ")]


def symptom_samples() -> list[Sample]:
    """`symptoms/<playbook>.tsv`: `source<TAB>line` rows."""
    out = []
    for path in sorted((CORPUS / "symptoms").glob("*.tsv")):
        for n, row in rows(path):
            source, _, line = row.partition("\t")
            out.append(Sample(path.stem, source, line, f"{path.name}:{n}"))
    return out


def ordinary_lines() -> list[tuple[str, str]]:
    """`ordinary/*.txt`: one ordinary (non-symptom) line per row, as (where, line)."""
    out = []
    for path in sorted((CORPUS / "ordinary").glob("*.txt")):
        out.extend((f"{path.name}:{n}", line) for n, line in rows(path))
    return out
