"""Console under load: keypress-to-screen latency, frames/s, CPU, memory and drops.

Starts moto's server in a child process, a writer process that puts RATE log events per
second into the demo's log groups (PutLogEvents, 1,000 per call), and the console
headless (160x48) tailing them through the real LogTail and store (the tail in its child
process, as the console runs it; `--in-process` puts it on a thread instead). A tenth of
the events are JSON (Lambda's JSON log format), some are multi-line tracebacks. Every
250 ms it presses a key (cursor moves, n/N, g, End, wrap, J, and typing a `/` filter:
a first keystroke, a second, a backspace) and measures the time from the key leaving the
driver until the first frame written after the key took effect, per key.

First, `warroom demo` as a user starts it (a new Python process, headless): seconds from
launch to the console's first frame and to its first findings.

    .venv/bin/python bench/ui.py [--rate 5000] [--seconds 60] [--in-process] [--no-demo]

Prints the figures; the goal is every key's p95 <= 100 ms with the buffer full (100,000
lines), peak RSS <= 166 MB, nothing lost but the buffer cap's (counted), the demo's frame
within 1 s and its findings within 4 s. Also: the latency split into key->action and
action->frame, the garbage collector's pauses, and the tail process's own peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing as mp
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from warroom.demo.server import OFFLINE_ENV, MotoServer  # noqa: E402

# (key, what it waits for: a bound action, or the filter box's text reaching the logs)
KEYS = (("k", "action"), ("k", "action"), ("j", "action"), ("n", "action"), ("N", "action"),
        ("end", "action"), ("w", "action"), ("w", "action"), ("pageup", "action"), ("g", "action"),
        ("J", "action"), ("J", "action"), ("end", "action"),
        ("slash", "action"), ("t", "filter"), ("i", "filter"), ("backspace", "filter"),
        ("backspace", "filter"), ("escape", "action"))
CHARS = {"slash": "/", "backspace": "\x08", "escape": "\x1b"}
GROUPS = [f"/aws/lambda/bench-fn-{i}" for i in range(5)]
MESSAGES = (
    "START RequestId: {rid} Version: $LATEST",
    "END RequestId: {rid}",
    "REPORT RequestId: {rid} Duration: 120.50 ms Billed Duration: 121 ms Memory Size: 512 MB Max Memory Used: 87 MB",
    "INFO handled request {n}",
    "{rid} Task timed out after 30.03 seconds",
    "An error occurred (ThrottlingException) when calling the PutItem operation: Rate exceeded",
    '{{"timestamp": "2024-05-01T10:17:29Z", "level": "ERROR", "requestId": "{rid}", '
    '"message": "Task timed out after 30.03 seconds", "logger": "handler", "attempt": {n}}}',
    "[ERROR] Runtime.ImportModuleError: Unable to import module 'app'\nTraceback (most recent call "
    "last):\n  File \"/var/task/app.py\", line 3, in <module>\n    import persona\n",
    "INFO handled request {n}",
    "INFO handled request {n}",
)


def create_groups(endpoint: str) -> None:
    """Child process: the log groups the writer writes to."""
    import boto3

    os.environ.update(OFFLINE_ENV)
    logs = boto3.client("logs", endpoint_url=endpoint, region_name="us-east-1")
    for group in GROUPS:
        logs.create_log_group(logGroupName=group)


def writer(endpoint: str, rate: int, seconds: float, written: mp.Value, stop: mp.Event,  # type: ignore[type-arg]
           done: mp.Event | None = None) -> None:
    """Child process: RATE events/s, spread over the groups, until `seconds` pass."""
    import boto3

    os.environ.update(OFFLINE_ENV)
    logs = boto3.client("logs", endpoint_url=endpoint, region_name="us-east-1")
    stream = "2024/05/01/[$LATEST]" + uuid.uuid4().hex
    for group in GROUPS:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    per_call = 1000
    calls_per_s = max(1, rate // per_call)
    size = rate // calls_per_s
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < seconds and not stop.is_set():
        tick = time.monotonic()
        for c in range(calls_per_s):
            now = int(time.time() * 1000)
            events = [{"timestamp": now, "message": MESSAGES[(n + i) % len(MESSAGES)].format(
                rid=f"{n + i:08x}", n=n + i)} for i in range(size)]
            logs.put_log_events(logGroupName=GROUPS[(n // size) % len(GROUPS)],
                                logStreamName=stream, logEvents=events)
            n += size
            with written.get_lock():
                written.value = n
        time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
    if done is not None:
        done.set()


async def run_console(endpoint: str, seconds: float, out: dict[str, object],
                      in_process: bool = False, written: mp.Value | None = None,  # type: ignore[type-arg]
                      writer_done: mp.Event | None = None) -> None:
    from textual import events

    from warroom.aws.session import AwsOptions, AwsSession
    from warroom.incident.store import IncidentStore
    from warroom.playbook.catalog import load_catalog
    from warroom.aws.tail_worker import Recognise
    from warroom.tui.app import ConsoleApp
    from warroom.tui.feeds import tail_feed
    from warroom.tui.source_thread import Feed, Post
    from warroom.tui.statusbar import Target

    catalog = load_catalog()
    store = IncidentStore(catalog)
    session = AwsSession(AwsOptions(endpoint_url=endpoint, region="us-east-1"))
    since = int(time.time() * 1000) - 5_000

    async def tail(post: Post) -> None:
        await tail_feed(post, session, Recognise(tuple(catalog)), ["/aws/lambda/bench-"], since,
                        in_process=in_process)

    app = ConsoleApp(store, Target("us-east-1", "123456789012", endpoint), session=session,
                     feeds=[Feed("log tail", tail)])
    frames: list[float] = []
    actions: list[float] = []
    filtered: list[float] = []  # the filter box's text reached the logs pane
    original_display = app._display
    original_dispatch = app._dispatch_action

    def display(screen, renderable):  # type: ignore[no-untyped-def]
        frames.append(time.perf_counter())
        return original_display(screen, renderable)

    async def dispatch(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = await original_dispatch(*args, **kwargs)
        actions.append(time.perf_counter())
        return result

    app._display = display  # type: ignore[method-assign]
    app._dispatch_action = dispatch  # type: ignore[method-assign]

    def hook_refilter() -> None:
        logs = app.main.logs
        original = logs.refilter

        def refilter() -> None:
            original()
            filtered.append(time.perf_counter())
        logs.refilter = refilter  # type: ignore[method-assign]
    latencies: list[float] = []
    gc_pauses: list[tuple[int, float]] = []  # generation, seconds
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            gc_pauses.append((info["generation"], time.perf_counter() - gc_started[0]))

    gc.callbacks.append(on_gc)
    detail: list[tuple[str, float, float]] = []  # key, key->action done, action->frame

    async def drive() -> None:
        hook_refilter()
        await asyncio.sleep(3.0)  # let the tail start and the screen settle
        cpu0 = time.process_time()
        wall0 = time.perf_counter()
        frames0 = len(frames)
        i = 0
        while time.perf_counter() - wall0 < seconds:
            key, signal = KEYS[i % len(KEYS)]
            i += 1
            marks = actions if signal == "action" else filtered
            n_marks = len(marks)
            sent = time.perf_counter()
            app._driver.send_message(events.Key(key, CHARS.get(key, key if len(key) == 1 else None)))  # type: ignore[union-attr]
            deadline = sent + 2.0
            while time.perf_counter() < deadline:
                await asyncio.sleep(0.002)
                if len(marks) > n_marks:
                    done = marks[n_marks]
                    after = [f for f in frames if f >= done]
                    if after:
                        latencies.append(after[0] - sent)
                        detail.append((key if signal == "action" else f"filter {key}", done - sent,
                                       after[0] - done))
                        break
            await asyncio.sleep(max(0.0, 0.25 - (time.perf_counter() - sent)))
        wall = time.perf_counter() - wall0
        out["gc"] = list(gc_pauses)
        out["tail_rss"] = _child_peak_rss("warroom.aws.tail_worker")
        out.update(cpu=(time.process_time() - cpu0) / wall * 100, fps=(len(frames) - frames0) / wall,
                   received=store.received + len(store.pending), dropped=store.dropped,
                   throttled=store.stats.throttled, presses=i, wall=wall)
        if written is not None and writer_done is not None:
            # The writer goes on a little longer: wait for it, then for the console to
            # have every event it wrote (anything missing now is lost, not late).
            deadline = time.perf_counter() + 30.0
            while time.perf_counter() < deadline and not (
                    writer_done.is_set() and store.received + len(store.pending) >= written.value):
                await asyncio.sleep(0.2)
            out["caught_up"] = store.received + len(store.pending)
            out["caught_up_dropped"] = store.dropped
        app.exit()

    app.call_later(lambda: app.run_worker(drive(), group="bench"))
    await app.run_async(headless=True, size=(160, 48))
    out["latencies"] = latencies
    out["detail"] = detail


def _child_peak_rss(module: str) -> float | None:
    """Peak RSS (MB) of this process's child running `python -m module`, if there is one."""
    me = str(os.getpid())
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = f.read().rsplit(")", 1)[1].split()[1]
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            if ppid != me or module.encode() not in argv:
                continue
            with open(f"/proc/{entry}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except (OSError, IndexError):
            continue
    return None


DEMO_DRIVER = """
import json, sys, threading, time, os
from warroom.tui.app import ConsoleApp
from warroom.tui.statusbar import StatusBar

marks = {}
mounted = ConsoleApp.on_mount

def on_mount(self):
    mounted(self)
    display = self._display

    def shown(screen, renderable):
        now = time.time()
        if "frame" not in marks:
            marks["frame"] = now
            marks["status"] = str(self.main.query_one(StatusBar).render())
        if marks.get("listed") and "findings" not in marks:  # the first frame that shows them
            marks["findings"] = now
            self.exit()
        return display(screen, renderable)
    self._display = shown

    def check():
        if self.store.address and "account" not in marks:
            marks["account"] = time.time()
        if self.main.findings.option_count and "listed" not in marks:
            marks["listed"] = time.time()
            self.refresh()
    self.set_interval(0.02, check)

ConsoleApp.on_mount = on_mount
run = ConsoleApp.run
ConsoleApp.run = lambda self, **kw: run(self, headless=True, size=(160, 48))
threading.Timer(60, lambda: os._exit(3)).start()
sys.argv = ["warroom", "demo"]
from warroom.cli import main
main()
print(json.dumps(marks), flush=True)
os._exit(0)
"""


def demo_start() -> None:
    """`warroom demo` in a new process: seconds from launch to the first frame (and what its
    status bar says), the simulated account answering, and the first findings on screen."""
    launched = time.time()
    out = subprocess.run([sys.executable, "-c", DEMO_DRIVER], capture_output=True, text=True,  # noqa: PLW1510
                         timeout=120, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    marks = json.loads(lines[-1]) if lines else {}
    show = lambda name: f"{marks[name] - launched:.1f} s" if name in marks else "never (within 60 s)"  # noqa: E731
    print(f"warroom demo        first frame {show('frame')}, first findings {show('findings')} "
          "after launch (goal: 1 s and 4 s)")
    print(f"  account seeded    {show('account')} after launch")
    status = str(marks.get("status", "")).split(" · ")[0]
    print(f"  first status bar  {status[:100]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=5000, help="events per second (default 5000)")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured run (default 60)")
    parser.add_argument("--in-process", action="store_true",
                        help="run the log tail on a thread of the console's process, not in a child")
    parser.add_argument("--no-demo", action="store_true", help="skip timing `warroom demo`'s start")
    args = parser.parse_args()
    if not args.no_demo:
        demo_start()
    os.environ.update(OFFLINE_ENV)
    with MotoServer() as server:
        # In a child: boto3 and its models in this process would count in the console's RSS.
        maker = mp.Process(target=create_groups, args=(server.endpoint,))
        maker.start()
        maker.join()
        written = mp.Value("q", 0)
        stop = mp.Event()
        done = mp.Event()
        proc = mp.Process(target=writer, args=(server.endpoint, args.rate, args.seconds + 4, written, stop, done))
        proc.start()
        out: dict[str, object] = {}
        try:
            asyncio.run(run_console(server.endpoint, args.seconds, out, args.in_process, written, done))
        finally:
            stop.set()
            proc.join(10)
            if proc.is_alive():
                proc.kill()
    lat = sorted(out.get("latencies", []))  # type: ignore[arg-type]
    if not lat:
        print("no keypress was measured")
        return 1
    p50 = statistics.median(lat) * 1000
    p95 = lat[min(len(lat) - 1, int(len(lat) * 0.95))] * 1000
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rate asked          {args.rate:,} events/s for {out['wall']:.0f} s (160x48, headless; "
          f"tail {'in-process' if args.in_process else 'in a child process'})")
    print(f"keypresses          {len(lat)} measured of {out['presses']}")
    print(f"latency key->frame  p50 {p50:.1f} ms   p95 {p95:.1f} ms")
    pct = lambda q: lat[min(len(lat) - 1, int(len(lat) * q))] * 1000
    print(f"                    p90 {pct(0.90):.1f} ms   p99 {pct(0.99):.1f} ms   max {lat[-1] * 1000:.1f} ms")
    detail = out.get("detail", [])
    if detail:
        acts = sorted(d[1] for d in detail)
        draws = sorted(d[2] for d in detail)
        q95 = lambda xs: xs[min(len(xs) - 1, int(len(xs) * 0.95))] * 1000
        print(f"  key->action       p50 {statistics.median(acts) * 1000:.1f} ms   p95 {q95(acts):.1f} ms")
        print(f"  action->frame     p50 {statistics.median(draws) * 1000:.1f} ms   p95 {q95(draws):.1f} ms")
        by_key: dict[str, list[float]] = {}
        for key, act, draw in detail:
            by_key.setdefault(key, []).append(act + draw)
        for key, times in by_key.items():
            times.sort()
            print(f"  {key:17} p50 {statistics.median(times) * 1000:6.1f} ms   p95 {q95(times):6.1f} ms"
                  f"   ({len(times)} presses)")
    pauses = out.get("gc", [])
    full = [d for g, d in pauses if g == 2]  # type: ignore[union-attr]
    print(f"gc pauses           {len(pauses)}, longest {max((d for _, d in pauses), default=0) * 1000:.0f} ms; "  # type: ignore[union-attr]
          f"{len(full)} full, {sum(full) * 1000:.0f} ms in all")
    print(f"frames/s            {out['fps']:.1f}")
    print(f"console CPU         {out['cpu']:.0f} % of one core")
    print(f"peak RSS            {rss_mb:.0f} MB")
    if out.get("tail_rss") is not None:
        print(f"  tail process      {out['tail_rss']:.0f} MB (its own peak, beside the console's)")
    print(f"events written      {written.value:,}")
    print(f"events received     {out['received']:,} (by the end of the run; tail throttled "
          f"{out['throttled']} times)")
    print(f"events dropped      {out['dropped']:,} (buffer cap)")
    if "caught_up" in out:
        lost = written.value - out["caught_up"]  # type: ignore[operator]
        print(f"after the writer    {out['caught_up']:,} received, {out['caught_up_dropped']:,} dropped "
              f"(buffer cap), {lost:,} missing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
