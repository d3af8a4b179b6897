"""How the catalog holds up when a known line reaches CloudWatch inside a log envelope.

Every symptom line of the tuned corpus that the catalog gets right is wrapped in the envelopes
loggers and platforms put around a message (Lambda's text and JSON log formats, pino, Python's
logging, CodeBuild, GitHub Actions, Docker's json-file driver, colour codes) and matched again;
so is every ordinary line. Prints, per envelope, how many symptom lines keep their playbook and
how many ordinary lines become flagged, with a few examples of each. Nothing is tuned on it:
it measures whether a pattern learned from one layout still works in the others.
Run: .venv/bin/python bench/envelopes.py [--examples N]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.corpus import ordinary_lines, symptom_samples  # noqa: E402
from warroom.playbook.catalog import load_catalog  # noqa: E402
from warroom.playbook.matcher import Matcher  # noqa: E402

REQUEST = "3f9c1d2e-7a41-4b8e-9c55-0d6e2f7a1b34"
TIME = "2024-05-01T10:15:32.123Z"

ENVELOPES: dict[str, Callable[[str], str]] = {
    "lambda text": lambda line: f"{TIME}\t{REQUEST}\tERROR\t{line}",
    "lambda JSON": lambda line: json.dumps({"timestamp": TIME, "level": "ERROR", "requestId": REQUEST,
                                            "message": line}),
    "pino": lambda line: json.dumps({"level": 50, "time": 1714558532123, "pid": 8, "msg": line}),
    "python logging": lambda line: f"[ERROR]\t{TIME}\t{REQUEST}\t{line}",
    "codebuild": lambda line: f"[Container] 2024/05/01 10:15:32.123456 {line}",
    "github actions": lambda line: f"2024-05-01T10:15:32.1234567Z {line}",
    "docker json-file": lambda line: json.dumps({"log": line + "\n", "stream": "stderr", "time": TIME}),
    "colour": lambda line: f"\x1b[31m{line}\x1b[0m",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=3, help="examples printed per envelope")
    args = parser.parse_args()
    matcher = Matcher(load_catalog())

    def first(line: str) -> str | None:
        found = matcher.match(line)
        return found[0].playbook if found else None

    samples = [s for s in symptom_samples() if first(s.line) == s.playbook]
    # envelopes.txt holds lines already in an envelope: wrapping them again measures nothing.
    ordinary = [line for where, line in ordinary_lines()
                if not where.startswith("envelopes.txt") and first(line) is None]
    print(f"tuned corpus: {len(samples):,} symptom lines right as written, "
          f"{len(ordinary):,} ordinary lines quiet as written\n")
    print(f"{'envelope':18} {'symptom lines kept':>20} {'ordinary flagged':>18}")
    for name, wrap in ENVELOPES.items():
        lost: Counter[str] = Counter()
        examples: list[str] = []
        for sample in samples:
            got = first(wrap(sample.line))
            if got != sample.playbook:
                lost[sample.playbook] += 1
                if len(examples) < args.examples:
                    examples.append(f"      lost  {sample.playbook} -> {got or '-'}: {sample.line[:90]}")
        flagged = [(line, got) for line in ordinary if (got := first(wrap(line))) is not None]
        kept = len(samples) - sum(lost.values())
        print(f"{name:18} {kept:>9,}/{len(samples):,} {kept / len(samples):6.1%} "
              f"{len(flagged):>7}/{len(ordinary):,} {len(flagged) / len(ordinary):5.1%}")
        for line in examples:
            print(line)
        for line, got in flagged[: args.examples]:
            print(f"      flagged {got}: {line[:90]}")


if __name__ == "__main__":
    main()
