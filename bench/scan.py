"""Benchmark `warroom scan` against GNU `grep -E -c -f` on the same 1,000,000-line log.

Prints the wall time of each (best of --repeat runs), lines/s, and warroom's ratio to grep.
The log is realistic Lambda/API/CodeBuild traffic with 0.1-1 % symptom lines taken from
the labelled corpus. Run: .venv/bin/python bench/scan.py [--lines N] [--share 0.005]
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.corpus import ordinary_lines, symptom_samples  # noqa: E402
from warroom.playbook.catalog import load_catalog  # noqa: E402

FUNCTIONS = ["bos-dev-agent-persona", "bos-dev-api-handler", "kiro-worker-test-poller"]


def background(rng: random.Random) -> str:
    """One ordinary line of the kinds a serverless stack logs most."""
    rid = uuid.UUID(int=rng.getrandbits(128))
    ts = f"2024-05-01T10:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}Z"
    kind = rng.randrange(10)
    if kind == 0:
        return f"START RequestId: {rid} Version: $LATEST"
    if kind == 1:
        return f"END RequestId: {rid}"
    if kind == 2:
        d = rng.uniform(1, 900)
        return (f"REPORT RequestId: {rid}\tDuration: {d:.2f} ms\tBilled Duration: {int(d) + 1} ms\t"
                f"Memory Size: 512 MB\tMax Memory Used: {rng.randrange(60, 200)} MB")
    if kind == 3:
        return (f'{{"requestId":"{rid}","ip":"10.0.{rng.randrange(255)}.{rng.randrange(255)}",'
                f'"httpMethod":"GET","routeKey":"GET /items","status":"200",'
                f'"responseLength":"{rng.randrange(100, 9000)}","integrationLatency":"{rng.randrange(5, 400)}"}}')
    if kind == 4:
        return f"[Container] 2024/05/01 10:15:{rng.randrange(60):02d}.{rng.randrange(10**6):06d} Running command npm ci"
    if kind == 5:
        return f"{ts}\t{rid}\tINFO\tprocessed batch size={rng.randrange(100)} errors=0 elapsed_ms={rng.randrange(900)}"
    if kind == 6:
        return f"{ts}\t{rid}\tDEBUG\tGET https://api.github.com/graphql 200 remaining={rng.randrange(5000)}"
    if kind == 7:
        return f"{ts}\t{rid}\tINFO\tlock acquired for work item #{rng.randrange(1000)} by {rng.choice(FUNCTIONS)}"
    if kind == 8:
        return f"{ts}\t{rid}\tWARN\tslow downstream call took {rng.randrange(500, 2000)} ms, retrying attempt 1"
    return f"{ts}\t{rid}\tINFO\thandler finished status=ok error_rate=0.0 items={rng.randrange(50)}"


def make_log(path: Path, lines: int, share: float, seed: int) -> int:
    rng = random.Random(seed)
    symptoms = [s.line for s in symptom_samples()] or ["Task timed out after 30.00 seconds"]
    ordinary = [line for _, line in ordinary_lines()]
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for _ in range(lines):
            r = rng.random()
            if r < share:
                out.write(rng.choice(symptoms))
                count += 1
            elif r < share + 0.02 and ordinary:
                out.write(rng.choice(ordinary))
            else:
                out.write(background(rng))
            out.write("\n")
    return count


_ERE = [(re.compile(r"\(\?P<\w+>"), "("), (re.compile(r"\(\?:"), "("), (re.compile(r"\(\?i\)"), ""),
        (re.compile(r"\\d"), "[0-9]"), (re.compile(r"\\s"), "[[:space:]]"),
        (re.compile(r"\\S"), "[^[:space:]]"), (re.compile(r"\\w"), "[[:alnum:]_]"),
        (re.compile(r"([*+?}])\?"), r"\1")]


def grep_patterns(path: Path) -> int:
    """The playbooks' patterns translated to POSIX ERE; ones grep rejects are left out."""
    kept = []
    for playbook in load_catalog():
        for symptom in playbook.text_symptoms:
            ere = symptom.pattern
            for rx, rep in _ERE:
                ere = rx.sub(rep, ere)
            probe = subprocess.run(["grep", "-E", "-c", "-e", ere], input=b"", capture_output=True)
            if probe.returncode in (0, 1) and "(?" not in ere:
                kept.append(ere)
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return len(kept)


def literal_patterns(path: Path) -> int:
    """Every required literal of every pattern: what `grep -F` can look for at its fastest."""
    from warroom.playbook.literals import conjuncts

    found: set[str] = set()
    for playbook in load_catalog():
        for symptom in playbook.text_symptoms:
            sets, _ = conjuncts(symptom.pattern, symptom.ignore_case)
            if sets:
                found.update(sets[0])
    path.write_text("\n".join(sorted(found)) + "\n", encoding="utf-8")
    return len(found)


def best_time(cmd: list[str], repeat: int) -> tuple[float, str]:
    best = float("inf")
    out = ""
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
        out = done.stdout.decode(errors="replace")
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--share", type=float, default=0.005, help="share of symptom lines")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--with-python", action="store_true",
                        help="also time the pure-Python fallback engine (slow)")
    args = parser.parse_args()
    if not shutil.which("grep"):
        sys.exit("GNU grep is needed for the reference run")
    warroom = [sys.executable, "-m", "warroom", "scan"]
    with tempfile.TemporaryDirectory() as tmp:
        log, pats = Path(tmp) / "bench.log", Path(tmp) / "patterns.ere"
        planted = make_log(log, args.lines, args.share, args.seed)
        n_pat = grep_patterns(pats)
        size = log.stat().st_size / 1e6
        print(f"log: {args.lines:,} lines, {size:.0f} MB, {planted:,} symptom lines planted; "
              f"grep gets {n_pat} ERE patterns")
        lits = Path(tmp) / "literals.txt"
        n_lit = literal_patterns(lits)
        g_time, g_out = best_time(["grep", "-E", "-c", "-f", str(pats), str(log)], args.repeat)
        f_time, f_out = best_time(["grep", "-F", "-i", "-c", "-f", str(lits), str(log)], args.repeat)
        results = [("grep -E -c -f", g_time, g_out.strip()),
                   (f"grep -F -i ({n_lit} literals)", f_time, f_out.strip() + "*")]
        for engine in ("hyperscan", "python") if args.with_python else ("hyperscan",):
            t, out = best_time([*warroom, "--engine", engine, "--json", str(log)],
                               args.repeat if engine == "hyperscan" else 1)
            results.append((f"warroom scan ({engine})", t, str(out.count("\n"))))
        t, _ = best_time([*warroom, "--json", "/dev/null"], args.repeat)
        results.append(("warroom start-up only", t, "0"))
        print(f"{'':28} {'seconds':>8} {'lines/s':>12} {'matched':>8} {'x grep':>7}")
        for name, t, matched in results:
            print(f"{name:28} {t:8.3f} {args.lines / t:12,.0f} {matched:>8} {t / g_time:7.2f}")
        print("* lines containing any required literal: a lower bound on the work, not a result")


if __name__ == "__main__":
    main()
