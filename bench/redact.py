"""Cost of secret masking: ordinary log lines, tail-sized batches, and hostile 256 KiB lines.

Prints microseconds per ordinary line for `redact`, per 100-line batch for the
`may_hold_secrets` fast path that `warroom tail` runs first, and milliseconds for each
hostile 256 KiB line next to a plain one (near misses that a backtracking engine rescans
once per candidate start, and lines packed with real matches).

Run: .venv/bin/python bench/redact.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from warroom.redact import may_hold_secrets, redact  # noqa: E402

SIZE = 256 * 1024
HOSTILE = {
    "plain words": "The quick brown fox jumps over the lazy dog 0123456789 ",
    "ghp_ near misses": "ghp_" + "a" * 29 + " ",
    "x-access-token: without @": "x-access-token:",
    "://user: without @": "://a:",
    "eyJ without dots": "eyJ",
    "AKIA inside a longer id": "AKIA",
    "token then spaces": "token ",
    "PEM header near misses": "-----BEGIN PRIVATE KEY---- ",
    "JWTs back to back": "eyJa.",
    "JSON password fields": '"password":',
    "escaped JSON fields": '\\"password\\":\\"',
    "Authorization headers": "Authorization: Bearer ",
}


def best_of(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    lines = [line for path in sorted((ROOT / "tests" / "corpus").rglob("*")) if path.is_file()
             for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    lines = (lines * (100_000 // len(lines) + 1))[:100_000]
    per_line = best_of(3, lambda: [redact(line) for line in lines]) / len(lines)
    batches = ["\n".join(lines[i:i + 100]) for i in range(0, len(lines), 100)]
    per_batch = best_of(3, lambda: [may_hold_secrets(b) for b in batches]) / len(batches)
    print(f"redact, ordinary corpus lines:       {per_line * 1e6:6.2f} us/line ({len(lines):,} lines)")
    print(f"may_hold_secrets, 100-line batches:  {per_batch * 1e6:6.2f} us/batch")
    print(f"\nhostile lines of {SIZE // 1024} KiB        redact ms   may_hold_secrets ms")
    for name, unit in HOSTILE.items():
        line = (unit * (SIZE // len(unit) + 1))[:SIZE]
        print(f"  {name:<28} {best_of(3, lambda: redact(line)) * 1e3:9.1f}"
              f"   {best_of(3, lambda: may_hold_secrets(line)) * 1e3:9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
