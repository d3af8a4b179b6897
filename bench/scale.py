"""`warroom tail` at account scale, on an offline account that behaves like AWS.

Starts `warroom demo --serve --bare` (CloudWatch Logs' per-account quotas enforced, Live
Tail streamed once a second with AWS's limits, `--latency` ms added to every call), then
for each scenario creates fresh log groups, follows them with `warroom tail --json`,
writes events spread across the groups (each message carries its send time and a
sequence number) and reads what the tail prints. Two paths per scenario, in the same run:

    live     Live Tail delivers; FilterLogEvents only backfills, within 1 call/s (the default)
    polling  FilterLogEvents only, at the account's whole 5 calls/s (the tail before Live Tail)

Prints PutLogEvents-to-printed p50/p95 (and p95 over the groups that had a session), lost,
repeated, FilterLogEvents calls/s and throttles counted at the server, and the share of
Live Tail updates that came sampled. Every tenth message carries a symptom the playbooks
know: beyond the 150 groups with a session, Logs Insights reads only the lines holding a
symptom's literal, so there "lost" counts the symptom lines only (the plain ones shown
there, by a handover backfill, are counted as "extra").

Then a traffic-shift run, in process (a LogTail, no matcher, so Insights reads every
line): 200 groups, traffic spread over the 150 that got sessions, then moved to the 50
without; prints how long until the sessions follow it, p95 before and after, lost, repeated.

    .venv/bin/python bench/scale.py                    # 10, 60, 200 groups at 15 ev/s; 5 groups at 5,000 ev/s; shift
    .venv/bin/python bench/scale.py --only 60 --duration 20 --no-shift
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from warroom.demo.server import OFFLINE_ENV  # noqa: E402

LINE = re.compile(r"bench seq=(\d+) sent=(\d+\.\d+) g=(\d+)")
SYMPTOM = "[ERROR] Runtime.ImportModuleError: Unable to import module 'handler': No module named 'handler'"
SYMPTOM_EVERY = 10  # every tenth message carries it
GROUPS_PER_SESSION = 10  # Live Tail's limit
SESSION_GROUPS = 15 * GROUPS_PER_SESSION  # 15 sessions: the groups beyond are polled
ENV = {**{k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_ENDPOINT_URL")}, **OFFLINE_ENV}


@dataclass
class Scenario:
    groups: int
    rate: float  # events/s over all the groups


@dataclass
class Result:
    scenario: Scenario
    path: str
    written: int
    received: int
    lost: int
    repeated: int
    p50: float
    p95: float
    p95_sessions: float
    filter_per_s: float  # counted at the server, from the tail's start
    throttled: str       # the tail's calls the server throttled, by API
    sampled: str
    extra: int = 0       # plain lines shown of groups read filtered (backfilled at a handover)


def control(endpoint: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(endpoint + path, data=json.dumps(payload or {}).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def logs_client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    # The bench's own writes are paced by botocore's retries, like any other tool's.
    return boto3.client("logs", endpoint_url=endpoint, region_name="us-east-1",
                        config=Config(retries={"mode": "standard", "max_attempts": 10},
                                      max_pool_connections=16))


def create_groups(logs: Any, prefix: str, count: int) -> list[str]:
    names = [f"{prefix}g{i:03d}" for i in range(count)]

    def make(name: str) -> None:
        logs.create_log_group(logGroupName=name)
        logs.create_log_stream(logGroupName=name, logStreamName="s")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(make, names))
    return names


def write(logs: Any, names: list[str], rate: float, duration: float, tick: float = 0.5) -> int:
    """Events spread round-robin over the groups at `rate`/s, one PutLogEvents per group and tick."""
    seq = 0
    start = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        for i in range(int(duration / tick)):
            if (wait := start + i * tick - time.monotonic()) > 0:
                time.sleep(wait)
            count = int(rate * (i + 1) * tick) - seq
            batches: dict[int, list[dict[str, Any]]] = {}
            now = time.time()
            for k in range(count):
                g = (seq + k) % len(names)
                tail = f" {SYMPTOM}" if (seq + k) % SYMPTOM_EVERY == 0 else ""
                batches.setdefault(g, []).append(
                    {"timestamp": int(now * 1000), "message": f"bench seq={seq + k} sent={now:.6f} g={g}{tail}"})
            seq += count
            list(pool.map(lambda item: logs.put_log_events(
                logGroupName=names[item[0]], logStreamName="s", logEvents=item[1]), batches.items()))
    return seq


def wait_for(condition: Callable[[], bool], limit: float = 60.0) -> bool:
    """Poll the offline account until `condition` holds; False if it did not within `limit` s."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def run(endpoint: str, scenario: Scenario, path: str, run_id: int, duration: float, drain: float) -> Result:
    logs = logs_client(endpoint)
    prefix = f"/scale/{run_id}-{path}/"
    names = create_groups(logs, prefix, scenario.groups)
    control(endpoint, "/_warroom/quotas", {"reset_counts": True})
    counted_from = time.monotonic()
    live_before = control(endpoint, "/_warroom/livetail")
    extra = ["--no-live-tail", "--filter-budget", "5"] if path == "polling" else []
    process = subprocess.Popen(
        [sys.executable, "-m", "warroom", "--endpoint-url", endpoint, "--region", "us-east-1", "tail",
         "--json", "--stats", *extra, prefix],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, bufsize=1)
    errors: list[str] = []
    threading.Thread(target=lambda: errors.extend(process.stderr or []), daemon=True).start()
    found: queue.Queue[tuple[float, str]] = queue.Queue()

    def read() -> None:
        for line in process.stdout or []:
            found.put((time.time(), line))

    threading.Thread(target=read, daemon=True).start()
    # Until the tail follows every group: its sessions open, or its polls begun. Events
    # written before the tail's start are not the tail's to show, and a fixed pause was
    # shorter than a cold first start of a series (they were counted lost).
    if path == "live":
        sessions = -(-min(scenario.groups, SESSION_GROUPS) // GROUPS_PER_SESSION)
        following = wait_for(lambda: control(endpoint, "/_warroom/livetail")["sessions"] >= sessions)
    else:
        following = wait_for(lambda: bool(
            control(endpoint, "/_warroom/quotas")["counts"].get("FilterLogEvents", {}).get("calls")))
    if not following:
        print(f"  {scenario.groups} groups, {path}: the tail did not follow every group within 60 s; "
              "measured anyway", flush=True)
    written = write(logs, names, scenario.rate, duration)
    # What the tail is meant to show: every line of the groups with a session (and of every
    # group when polling), the symptom lines of the groups Logs Insights reads filtered.
    groups = scenario.groups

    def expected(seq: int) -> bool:
        return path == "polling" or seq % groups < SESSION_GROUPS or seq % SYMPTOM_EVERY == 0

    wanted = sum(1 for seq in range(written) if expected(seq))
    seqs: Counter[int] = Counter()
    extra = 0
    latencies: list[float] = []
    session_latencies: list[float] = []
    deadline = time.monotonic() + drain
    while time.monotonic() < deadline:
        try:
            when, line = found.get(timeout=0.2)
        except queue.Empty:
            if sum(1 for seq in seqs if expected(seq)) >= wanted:
                break
            continue
        m = LINE.search(line)
        if m is None:
            continue
        seq = int(m.group(1))
        if not expected(seq):
            extra += 1
            continue
        seqs[seq] += 1
        if seqs[seq] == 1:
            latency = when - float(m.group(2))
            latencies.append(latency)
            if int(m.group(3)) < SESSION_GROUPS:
                session_latencies.append(latency)
    counts = control(endpoint, "/_warroom/quotas")["counts"]
    counted = time.monotonic() - counted_from
    live_after = control(endpoint, "/_warroom/livetail")
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    # The server notices the closed sessions and frees them for the next run.
    wait_for(lambda: control(endpoint, "/_warroom/livetail")["sessions"] == 0)
    tail_apis = ("FilterLogEvents", "StartLiveTail", "DescribeLogGroups")
    updates = live_after["updates"] - live_before["updates"]
    sampled = live_after["sampled_updates"] - live_before["sampled_updates"]

    def pct(values: list[float], p: float) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, int(p * len(values)))] if values else float("nan")

    return Result(scenario, path, wanted, len(seqs), wanted - len(seqs),
                  sum(c - 1 for c in seqs.values() if c > 1), pct(latencies, 0.5), pct(latencies, 0.95),
                  pct(session_latencies, 0.95),
                  counts.get("FilterLogEvents", {}).get("calls", 0) / counted,
                  ", ".join(f"{api} {counts[api]['throttled']}" for api in tail_apis
                            if counts.get(api, {}).get("throttled")) or "0",
                  f"{sampled}/{updates}" if path == "live" else "-", extra)


def show_header() -> None:
    print("| groups | ev/s | path | p50 | p95 | p95 (groups with a session) | lost | repeated "
          "| FilterLogEvents/s | throttled | sampled updates | extra |", flush=True)
    print("|---|---|---|---|---|---|---|---|---|---|---|---|", flush=True)


def show(r: Result) -> None:
    print(f"| {r.scenario.groups} | {r.scenario.rate:g} | {r.path} | {r.p50:.2f} s | {r.p95:.2f} s "
          f"| {r.p95_sessions:.2f} s | {r.lost} of {r.written} | {r.repeated} | {r.filter_per_s:.2f} "
          f"| {r.throttled} | {r.sampled} | {r.extra} |", flush=True)


def shift(endpoint: str, run_id: int, before: float, after: float, drain: float,
          groups: int = 200, rate: float = 15.0) -> None:
    """Traffic over the groups that got sessions, then moved to the groups without; how
    long until the sessions follow, latency before and after, lost and repeated."""
    import asyncio

    from warroom.aws.logtail import LogTail, TailOptions
    from warroom.aws.session import AwsOptions

    logs = logs_client(endpoint)
    prefix = f"/scale/{run_id}-shift/"
    names = create_groups(logs, prefix, groups)
    control(endpoint, "/_warroom/quotas", {"reset_counts": True})
    seen: Counter[int] = Counter()
    latencies: list[tuple[float, float]] = []  # (sent, latency)
    marks: dict[str, float] = {}
    notes: list[str] = []

    async def main_() -> None:
        tail = LogTail(AwsOptions(endpoint_url=endpoint, region="us-east-1"), [prefix], None, TailOptions())

        async def consume() -> None:
            async for batch in tail.batches():
                now = time.time()
                for record in batch:
                    m = LINE.search(record.message)
                    if m:
                        seen[int(m.group(1))] += 1
                        if seen[int(m.group(1))] == 1:
                            latencies.append((float(m.group(2)), now - float(m.group(2))))

        reader = asyncio.create_task(consume())
        try:
            while tail.stats().live_groups < SESSION_GROUPS:  # not a measurement: sessions open
                await asyncio.sleep(0.2)
            holders = sorted(tail.live.assigned()) if tail.live else []
            others = [n for n in names if n not in holders]
            seq = await asyncio.to_thread(write_to, logs, names, holders, rate, before, 0)
            marks["shift"] = time.time()
            target = set(others)
            written = seq

            async def write_after() -> int:
                return await asyncio.to_thread(write_to, logs, names, others, rate, after, written)

            writing = asyncio.create_task(write_after())
            while not writing.done():
                if "followed" not in marks and tail.live and target <= tail.live.assigned() \
                        and all(tail.groups[n].live for n in target):
                    marks["followed"] = time.time()
                await asyncio.sleep(0.2)
            marks["total"] = await writing
            deadline = time.monotonic() + drain
            while len(seen) < marks["total"] and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            marks["filter_calls"] = tail.stats().filter_calls
            notes.append(f"ranked by {tail.places.by or '-'}"
                         + (f" (metric: {tail.places.metric_error})" if tail.places.metric_error else "")
                         + f"; Live Tail starts {tail.live.stats.starts if tail.live else 0}")
            marks["throttled"] = tail.stats().throttled
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            await tail.aclose()

    began = time.time()
    asyncio.run(main_())
    total = int(marks.get("total", 0))
    follow = marks.get("followed")

    def p95(values: list[float]) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, int(0.95 * len(values)))] if values else float("nan")

    moment = marks["shift"]
    before_shift = [lat for sent, lat in latencies if sent < moment]
    waiting = [lat for sent, lat in latencies if sent >= moment and (follow is None or sent < follow)]
    settled = [lat for sent, lat in latencies if follow is not None and sent >= follow]
    followed = f"{follow - moment:.0f} s" if follow is not None else "not within the run"
    repeated = sum(c - 1 for c in seen.values() if c > 1)
    print(f"traffic shift: {groups} groups, {rate:g} ev/s over the {SESSION_GROUPS} with sessions for "
          f"{before:g} s, then over the {groups - SESSION_GROUPS} without for {after:g} s", flush=True)
    print("| sessions followed after | p95 before the shift | p95 after, until followed | p95 once followed "
          "| lost | repeated | FilterLogEvents/s | throttled |", flush=True)
    print("|---|---|---|---|---|---|---|---|", flush=True)
    print(f"| {followed} | {p95(before_shift):.2f} s | {p95(waiting):.2f} s | {p95(settled):.2f} s "
          f"| {total - len(seen)} of {total} | {repeated} "
          f"| {marks.get('filter_calls', 0) / (time.time() - began):.2f} | {int(marks.get('throttled', 0))} |",
          flush=True)
    for note in notes:
        print(f"  {note}", flush=True)


def write_to(logs: Any, names: list[str], targets: list[str], rate: float, duration: float,
             first: int, tick: float = 0.5) -> int:
    """`write`, over `targets` only, numbering from `first`; returns the next number."""
    index = {name: i for i, name in enumerate(names)}
    seq = first
    start = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        for i in range(int(duration / tick)):
            if (wait := start + i * tick - time.monotonic()) > 0:
                time.sleep(wait)
            count = first + int(rate * (i + 1) * tick) - seq
            batches: dict[str, list[dict[str, Any]]] = {}
            now = time.time()
            for k in range(count):
                name = targets[(seq + k) % len(targets)]
                batches.setdefault(name, []).append(
                    {"timestamp": int(now * 1000),
                     "message": f"bench seq={seq + k} sent={now:.6f} g={index[name]}"})
            seq += count
            list(pool.map(lambda item: logs.put_log_events(
                logGroupName=item[0], logStreamName="s", logEvents=item[1]), batches.items()))
    return seq


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=40.0, help="ms per call (default 40)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of writing per run")
    parser.add_argument("--drain", type=float, default=30.0, help="seconds to wait for stragglers")
    parser.add_argument("--only", type=int, action="append", help="run only the scenario with this many groups")
    parser.add_argument("--paths", default="live,polling")
    parser.add_argument("--no-shift", action="store_true", help="skip the traffic-shift run")
    parser.add_argument("--no-table", action="store_true", help="only the traffic-shift run")
    parser.add_argument("--shift-before", type=float, default=30.0, help="s of traffic before the shift")
    parser.add_argument("--shift-after", type=float, default=150.0, help="s of traffic after it")
    args = parser.parse_args()
    os.environ.update(OFFLINE_ENV)  # dummy credentials, never real ones
    scenarios = [Scenario(10, 15), Scenario(60, 15), Scenario(200, 15), Scenario(5, 5000)]
    if args.only:
        scenarios = [s for s in scenarios if s.groups in args.only]
    server = subprocess.Popen([sys.executable, "-m", "warroom", "demo", "--serve", "--bare",
                               "--latency", f"{args.latency:g}"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True, env=ENV)
    try:
        assert server.stdout is not None
        endpoint = server.stdout.readline().strip().split("=", 1)[1]
        print(f"offline account {endpoint}: quotas on, {args.latency:g} ms per call, "
              f"{args.duration:g} s of writing per run", flush=True)
        if not args.no_table:
            show_header()
            for run_id, scenario in enumerate(scenarios):
                for path in args.paths.split(","):
                    show(run(endpoint, scenario, path, run_id, args.duration, args.drain))
        if not args.no_shift:
            shift(endpoint, len(scenarios), args.shift_before, args.shift_after, args.drain)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
