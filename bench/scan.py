"""Benchmark `warroom scan` against GNU `grep -E -c -f` on the same 1,000,000-line log: grep
for the guides' own symptom strings (the floor), and grep for warroom's patterns translated.

First its start-up alone, on three lines, with a cold and a warm matcher cache. Then it
prints the wall time of each (best of --repeat runs), lines/s, and warroom's ratio to grep.
The log is realistic Lambda/API/CodeBuild traffic with 0.1-1 % symptom lines taken from
the labelled corpus. Then the matcher's time on one 256 KiB line: ordinary log text, and
the worst of ~4,000 hostile lines built from every pattern's examples (tests/adversarial.py).
Run: .venv/bin/python bench/scan.py [--lines N] [--share 0.005] [--grep-limit S] [--skip-startup] [--skip-log] [--skip-long]
"""

from __future__ import annotations

import argparse
import heapq
import os
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
    """The playbooks' patterns translated to POSIX ERE; ones grep rejects, and ones with an
    `unless` or `compare` grep cannot apply, are left out."""
    kept = []
    for playbook in load_catalog():
        for symptom in playbook.text_symptoms:
            if symptom.unless or symptom.compare:
                continue
            ere = symptom.pattern
            for rx, rep in _ERE:
                ere = rx.sub(rep, ere)
            probe = subprocess.run(["grep", "-E", "-c", "-e", ere], input=b"", capture_output=True)
            if probe.returncode in (0, 1) and "(?" not in ere:
                kept.append(ere)
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return len(kept)


def guide_strings(path: Path) -> int:
    """The guides' own symptom strings, as ERE: the first line of the first code block under
    each section the symptom catalog maps to a playbook. Grepping for just these is the
    floor any scan that recognises the guides' errors is measured against."""
    import csv

    shared = ROOT.parent / "shared"
    texts = {f.name: f.read_text(encoding="utf-8") for f in (shared / "seeds").glob("*.md")}
    strings: set[str] = set()
    with (shared / "symptom-catalog.tsv").open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows, delimiter="\t"):
            title = re.escape(row["seed_section"].split(" > ")[-1])
            section = re.search(rf"^#{{2,4}} [^\n]*{title}[^\n]*\n(.*?)(?=^#{{2,4}} |\Z)",
                                texts.get(row["seed_file"], ""), re.M | re.S)
            block = section and re.search(r"```[a-z]*\n(.*?)```", section.group(1), re.S)
            if block:
                lines = [ln.strip() for ln in block.group(1).splitlines()]
                first = next((ln for ln in lines if ln and not ln.startswith("#")), "")
                if first:
                    strings.add(first)
    path.write_text("".join(re.sub(r"([.^$*+?()[\]{}|\\])", r"\\\1", s) + "\n"
                            for s in sorted(strings)), encoding="utf-8")
    return len(strings)


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


def best_time(cmd: list[str], repeat: int, limit: float | None = None) -> tuple[float, str]:
    """The best wall time of `repeat` runs and the last one's output; a run stopped at
    `limit` seconds gives `limit` and the output "stopped"."""
    best = float("inf")
    out = ""
    for _ in range(repeat):
        start = time.perf_counter()
        try:
            done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=limit)
        except subprocess.TimeoutExpired:
            return float(limit or 0), "stopped"
        best = min(best, time.perf_counter() - start)
        out = done.stdout.decode(errors="replace")
    return best, out


def plain_long_line(size: int, seed: int) -> str:
    """Ordinary log text (the background lines, space-joined) of `size` characters."""
    rng = random.Random(seed)
    parts, total = [], 0
    while total < size:
        parts.append(background(rng))
        total += len(parts[-1]) + 1
    return " ".join(parts)[:size]


def long_line_figures(repeat: int, seed: int) -> None:
    """The matcher (`scan`'s block path, in process) on one 256 KiB line: plain vs hostile.

    CPU time of this process, so that other work on a shared machine does not count; a
    line's figure is its best of several runs spread over the measurement.
    """
    from tests.adversarial import SIZE, Hostile, hostile_lines
    from warroom.playbook.matcher import Matcher

    catalog = load_catalog()
    matcher = Matcher(catalog)

    def cost(line: str) -> float:
        data = line.encode("utf-8")
        start = time.process_time()
        for _found in matcher.scan(data):
            pass
        return time.process_time() - start

    count = 0

    def first_pass(hostile: Hostile) -> float:
        nonlocal count
        count += 1
        return cost(hostile.line)

    # One timing each picks the suspects; they and the plain line are then timed again in
    # rounds, best of N, so that a hiccup is not reported as the worst line.
    suspects = [(h.line, f"{h.family}: {h.source}")
                for h in heapq.nlargest(12, hostile_lines(catalog), key=first_pass)]
    lines = [(plain_long_line(SIZE, seed), "plain"), *suspects]
    best = [float("inf")] * len(lines)
    rounds = max(repeat, 5)
    for _ in range(rounds):
        for i, (line, _) in enumerate(lines):
            best[i] = min(best[i], cost(line))
    plain = best[0]
    timed = sorted(zip(best[1:], (name for _, name in suspects), strict=True), reverse=True)
    worst, name = timed[0]
    print(f"\none {SIZE >> 10} KiB line, matcher only ({matcher.engine} prefilter, RE2), "
          f"CPU time, best of {rounds}:")
    print(f"  plain (ordinary log text)        {plain * 1e3:8.2f} ms")
    print(f"  worst of {count:,} hostile lines    {worst * 1e3:8.2f} ms  "
          f"{worst / plain:5.1f}x plain  ({name})")
    for t, name in timed[1:4]:
        print(f"    next: {t * 1e3:8.2f} ms  ({name})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--share", type=float, default=0.005, help="share of symptom lines")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--with-python", action="store_true",
                        help="also time the pure-Python fallback engine (slow)")
    parser.add_argument("--grep-limit", type=float, default=300,
                        help="seconds after which grep with the translated patterns is stopped")
    parser.add_argument("--skip-startup", action="store_true", help="skip the start-up figures")
    parser.add_argument("--skip-log", action="store_true", help="skip the N-line log figures")
    parser.add_argument("--skip-long", action="store_true", help="skip the 256 KiB line figures")
    args = parser.parse_args()
    if not args.skip_startup:
        startup_figures(max(args.repeat, 5))
    if not args.skip_log:
        log_figures(args)
    if not args.skip_long:
        long_line_figures(args.repeat, args.seed)


def startup_figures(repeat: int) -> None:
    """`warroom scan` on three lines, as a subprocess: with no matcher cache (every run
    loads the playbooks and compiles) and with a warm one. Bytecode is cached as after an
    install (in a temporary PYTHONPYCACHEPREFIX), whatever PYTHONDONTWRITEBYTECODE says."""
    lines = "START RequestId: 1\n2024-05-01T10:15:32Z 3f9c Task timed out after 30.03 seconds\nEND\n"
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(XDG_CACHE_HOME=str(cache), PYTHONPYCACHEPREFIX=str(Path(tmp) / "pyc"))

        def run(cold: bool) -> tuple[float, float]:
            if cold:
                shutil.rmtree(cache, ignore_errors=True)
            before = os.times()
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "warroom", "scan"], input=lines.encode(), env=env,
                           stdout=subprocess.DEVNULL, check=True)
            wall = time.perf_counter() - start
            after = os.times()
            cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
            return wall, cpu

        run(cold=True)  # writes the bytecode
        print(f"start-up, `warroom scan` on 3 lines, best of {repeat} (wall / CPU seconds):")
        for name, cold in (("cold cache (builds it)", True), ("warm cache", False)):
            times = [run(cold) for _ in range(repeat)]
            print(f"  {name:24} {min(w for w, _ in times):6.3f} s  / {min(c for _, c in times):6.3f} s")
        print()


def log_figures(args: argparse.Namespace) -> None:
    """`warroom scan` and grep on the same generated log, as subprocesses."""
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
        lits, guide = Path(tmp) / "literals.txt", Path(tmp) / "guide.ere"
        n_lit, n_guide = literal_patterns(lits), guide_strings(guide)
        floor_time, floor_out = best_time(["grep", "-E", "-c", "-f", str(guide), str(log)], args.repeat)
        # Once, and stopped at --grep-limit: GNU grep's DFA for a thousand patterns takes
        # minutes to tens of minutes, two orders of magnitude above the rest.
        g_time, g_out = best_time(["grep", "-E", "-c", "-f", str(pats), str(log)], 1, args.grep_limit)
        f_time, f_out = best_time(["grep", "-F", "-i", "-c", "-f", str(lits), str(log)], args.repeat)
        translated = "grep -E -c -f (translated)" + (" >" if g_out == "stopped" else "")
        results = [(f"grep -E ({n_guide} guide strings)", floor_time, floor_out.strip()),
                   (translated, g_time, g_out.strip()),
                   (f"grep -F -i ({n_lit} literals)", f_time, f_out.strip() + "*")]
        for engine in ("hyperscan", "python") if args.with_python else ("hyperscan",):
            # The start-up cache is built first (a code or playbook change invalidates
            # it): the figure is the scan's; start-up has its own figures above.
            subprocess.run([*warroom, "--engine", engine, "-"], input=b"x\n", stdout=subprocess.DEVNULL, check=False)
            t, out = best_time([*warroom, "--engine", engine, "--json", str(log)],
                               args.repeat if engine == "hyperscan" else 1)
            results.append((f"warroom scan ({engine})", t, str(out.count("\n"))))
        print(f"{'':30} {'seconds':>8} {'lines/s':>12} {'matched':>8} {'x floor':>8} {'x grep':>7}")
        for name, t, matched in results:
            print(f"{name:30} {t:8.3f} {args.lines / t:12,.0f} {matched:>8} {t / floor_time:8.2f} "
                  f"{t / g_time:7.2f}")
        print("floor: grep -E for the guides' own symptom strings; goal: warroom within 1.5x of it")
        print("* lines containing any required literal: a lower bound on the work, not a result")
        matcher_cpu(log, args.repeat)


def matcher_cpu(log: Path, repeat: int) -> None:
    """The matcher alone on the same log, in process: CPU time, which other work on a
    shared machine does not inflate as it does the wall times above."""
    from warroom.playbook.matcher import Matcher
    from warroom.scan import blocks

    matcher = Matcher(load_catalog())
    best, found = float("inf"), 0
    for _ in range(repeat):
        start, found = time.process_time(), 0
        with log.open("rb") as stream:
            for data in blocks(stream):
                found += sum(1 for _ in matcher.scan(data))
        best = min(best, time.process_time() - start)
    print(f"matcher in process ({matcher.engine} prefilter, RE2): {best:.3f} s CPU, "
          f"{found:,} lines matched, best of {repeat}")
    hot = sorted(getattr(matcher.prefilter, "_hot", ()))
    if hot:  # the patterns whose literals were too common: looked for by their regexes
        names = sorted({matcher._leads[k].playbook.id for k in hot})
        print(f"  prefiltered by regex: {len(hot)} pattern(s) of {', '.join(names)}")


if __name__ == "__main__":
    main()
