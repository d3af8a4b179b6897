"""Where the console's memory goes: RSS of a console-equivalent process, stage by stage.

Each stage runs in a new Python process and adds one thing to the previous stage, as the
console builds it: Textual (the reference: what any Textual app pays), the modules the
console imports, the playbooks, the matcher the console hands to its log tail, the buffer
full of typical records (arriving as the tail child sends them: `tail_worker.decode`), and
the console itself, headless at 160x48, drawing that buffer and pressing keys (wrap, top,
symptom jumps, a `/` filter). The records are made and matched in this process
beforehand, so the matching costs the stages nothing.

Then, in the last stage's process: which keys made it grow, what one full garbage
collection costs over the objects it holds, the size of the buffer by part (measured
with `sys.getsizeof` over the distinct objects the records hold) and the heavy packages
that are (or are not) loaded.

    .venv/bin/python bench/memory.py [--lines 100000]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

STAGES = ("python", "textual", "textual app", "imports", "playbooks", "matcher", "records", "console")
GROUPS = [f"/aws/lambda/bench-fn-{i}" for i in range(8)]
BASE_MS = 1_764_000_000_000
# The console's start-up imports (commands/console.py's `run`), the wizard its fix hook loads.
CONSOLE_IMPORTS = ("warroom.cli", "warroom.commands.console", "warroom.commands.common",
                   "warroom.aws.session", "warroom.incident.store", "warroom.playbook.matcher",
                   "warroom.tui.app", "warroom.tui.sources", "warroom.tui.wizard")
KEYS = (("w",), ("w",), ("g",), ("n",), ("n",), ("N",), ("end",), ("J",), ("J",),
        ("slash", "t", "i", "m", "e"), ("escape", "escape"), ("G",))
HEAVY = ("botocore", "aiobotocore", "boto3", "aiohttp", "yaml", "hyperscan", "re2", "moto")


def typical_message(i: int) -> str:
    """A tenth JSON (Lambda's JSON log format), a tenth multi-line, the rest Lambda's plain lines."""
    rid = f"{i:08x}-7c1e-4b8e-9b1a-{i:012x}"
    kind = i % 10
    if kind == 0:
        return json.dumps({"timestamp": "2024-05-01T10:17:29Z", "level": "ERROR" if i % 20 == 0 else "INFO",
                           "requestId": rid, "message": "Task timed out after 30.03 seconds"
                           if i % 30 == 0 else "handled", "logger": "handler", "attempt": i})
    if kind == 5:
        return ("[ERROR] Runtime.ImportModuleError: Unable to import module 'app'\nTraceback (most "
                "recent call last):\n  File \"/var/task/app.py\", line 3, in <module>\n    import persona\n")
    return (f"START RequestId: {rid} Version: $LATEST",
            f"END RequestId: {rid}",
            (f"REPORT RequestId: {rid}\tDuration: 120.50 ms\tBilled Duration: 121 ms\tMemory Size: 512 MB"
             "\tMax Memory Used: 87 MB\t"),
            f"{rid} INFO handled request {i}",
            f"2024-05-01T10:15:32.123Z {rid} Task timed out after 30.03 seconds",
            "",
            "An error occurred (ThrottlingException) when calling the PutItem operation: Rate exceeded",
            f"{rid} INFO handled request {i}",
            f"{rid} INFO calling downstream {i % 97}",
            "")[kind]


def make_rows(lines: int) -> list[Any]:
    """Typical records as the tail child sends them (matched by the real matcher)."""
    from warroom.aws.tail_worker import encode
    from warroom.incident.records import Record
    from warroom.playbook.catalog import load_catalog
    from warroom.playbook.matcher import Matcher

    matcher = Matcher(load_catalog())
    records = []
    for i in range(lines):
        group = GROUPS[(i // 500) % len(GROUPS)]
        stream = f"2024/05/01/[$LATEST]{(i // 5000):032x}"
        message = typical_message(i)
        # CloudWatch's event ids: 56 digits
        event_id = f"{37_000_000_000_000_000_000 + i}{i * 7919:034d}"
        records.append(Record("logs", group, stream, BASE_MS + i * 10, event_id, message,
                              BASE_MS + i * 10 + 180, matcher.match(message, group)))
    return encode(records)


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process, in MB."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024
    return out["VmRSS"], out["VmHWM"]


# -- one stage, in its own process ---------------------------------------------------------

def run_stage(stage: str, rows_path: str, lines: int) -> dict[str, Any]:
    upto = STAGES.index(stage)
    info: dict[str, Any] = {}
    keep: list[Any] = []
    if upto >= STAGES.index("textual"):
        import textual  # noqa: F401
    if upto >= STAGES.index("textual app"):
        import asyncio

        asyncio.run(_bare_app())
    if upto >= STAGES.index("imports"):
        import importlib

        for name in CONSOLE_IMPORTS:
            importlib.import_module(name)
    if upto >= STAGES.index("playbooks"):
        from warroom.playbook.catalog import load_catalog

        catalog = load_catalog()
        keep.append(catalog)
    if upto >= STAGES.index("matcher"):
        from warroom.playbook.matcher import Matcher

        keep.append(Matcher(catalog))
    if upto >= STAGES.index("records"):
        from warroom.aws.tail_worker import decode
        from warroom.incident.store import IncidentStore

        store = IncidentStore(catalog, capacity=lines, clock=lambda: (BASE_MS + lines * 10) / 1000)
        with open(rows_path, "rb") as f:
            while True:  # as the console gets them: a pickled batch at a time
                try:
                    batch = pickle.load(f)
                except EOFError:
                    break
                store.push(decode(batch))
                store.drain()
        keep.append(store)
    if upto >= STAGES.index("console"):
        info.update(asyncio.run(_console(store)))  # asyncio: imported by the "textual app" stage
        gc.collect()
        info["rss"], info["peak"] = rss_mb()  # before the breakdown, which needs memory of its own
        info["buffer"] = buffer_breakdown(store)
        info["loaded"] = sorted(p for p in HEAVY if p in sys.modules)
    if "rss" not in info:
        gc.collect()
        info["rss"], info["peak"] = rss_mb()
    return info


async def _bare_app() -> None:
    from textual.app import App
    from textual.widgets import Static

    class Bare(App[None]):
        def compose(self):  # type: ignore[no-untyped-def]
            yield Static("reference")

    async with Bare().run_test(size=(160, 48)) as pilot:
        await pilot.pause()


async def _console(store: Any) -> dict[str, Any]:
    from warroom.tui.app import ConsoleApp
    from warroom.tui.statusbar import Target

    app = ConsoleApp(store, Target(region="us-east-1"), timers=False)
    after: dict[str, Any] = {}
    async with app.run_test(size=(160, 48)) as pilot:
        app.pump()
        await pilot.pause()
        after["drawn"] = rss_mb()[0]
        steps = []
        for keys in KEYS:
            before = rss_mb()[0]
            await pilot.press(*keys)
            await pilot.pause()
            while not app.main.logs.model.complete:
                await pilot.pause()
            steps.append((" ".join(keys), rss_mb()[0] - before))
        after["keys"] = rss_mb()[0]
        after["steps"] = steps
        started = time.perf_counter()
        gc.collect()
        after["full_gc_ms"] = (time.perf_counter() - started) * 1000
        after["tracked"] = len(gc.get_objects())
    return after


def buffer_breakdown(store: Any) -> dict[str, float]:
    """MB the ring's records take, by part; an object shared by several records counts once."""
    seen: set[int] = set()
    parts: dict[str, float] = {}

    def add(part: str, obj: object) -> None:
        if id(obj) not in seen:
            seen.add(id(obj))
            parts[part] = parts.get(part, 0) + sys.getsizeof(obj)

    for record in store.ring:
        add("record objects", record)
        add("messages", record.message)
        add("event ids", getattr(record, "_event_id", None) or record.event_id)
        add("group, stream, source", record.group)
        add("group, stream, source", record.stream)
        add("group, stream, source", record.source)
        add("timestamps", record.timestamp)
        if record.ingestion_time is not None:
            add("ingestion times", record.ingestion_time)
        add("match lists", record.matches)
        for match in record.matches:
            add("matches", match)
            add("matches", match.captures)
            for value in match.captures.values():
                add("matches", value)
    ring = store.ring
    add("ring slots", getattr(ring, "_items", ()))
    return {k: v / 1e6 for k, v in parts.items()}


# -- the report ------------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--rows", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        print(json.dumps(run_stage(args.stage, args.rows, args.lines)))
        return 0
    import subprocess
    import tempfile

    rows = make_rows(args.lines)
    with tempfile.TemporaryDirectory() as tmp:
        rows_path = os.path.join(tmp, "rows.pickle")
        with open(rows_path, "wb") as f:
            for i in range(0, len(rows), 2000):
                pickle.dump(rows[i:i + 2000], f, protocol=pickle.HIGHEST_PROTOCOL)
        del rows
        results = {}
        for stage in STAGES:
            out = subprocess.run([sys.executable, __file__, "--stage", stage, "--rows", rows_path,
                                  "--lines", str(args.lines)], capture_output=True, text=True, check=False)
            if out.returncode:
                print(f"stage {stage} failed:\n{out.stderr}", file=sys.stderr)
                return 1
            results[stage] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"console-equivalent process, {args.lines:,} records in the buffer (RSS after a full "
          "collection; each stage a new process adding one thing to the one before)")
    before = 0.0
    for stage in STAGES:
        rss = results[stage]["rss"]
        print(f"  {stage:12} {rss:7.1f} MB   {rss - before:+7.1f} MB")
        before = rss
    last = results["console"]
    print(f"  console: {last['drawn']:.1f} MB once drawn, {last['keys']:.1f} MB after the keys, "
          f"peak {last['peak']:.1f} MB")
    print(f"  a full garbage collection: {last['full_gc_ms']:.0f} ms over {last['tracked']:,} objects "
          "the collector tracks (nothing frozen)")
    grew = [f"{keys} {mb:+.1f} MB" for keys, mb in last["steps"] if abs(mb) >= 0.5]
    print(f"  keys that grew it: {', '.join(grew) or 'none'} (the first symptom line chosen shows its "
          "playbook: the guidance pane's preview loads botocore and its service models)")
    print(f"  reference: {results['textual']['rss']:.1f} MB `import textual`, "
          f"{results['textual app']['rss']:.1f} MB a bare Textual app drawn at 160x48")
    print(f"  warroom's own: {last['rss'] - results['textual app']['rss']:.1f} MB above the bare app")
    print(f"buffer by part ({sum(last['buffer'].values()):.1f} MB, "
          f"{sum(last['buffer'].values()) * 1e6 / args.lines:.0f} bytes a record)")
    for part, mb in sorted(last["buffer"].items(), key=lambda kv: -kv[1]):
        print(f"  {part:22} {mb:6.1f} MB")
    loaded = last["loaded"]
    print(f"heavy packages loaded in the console: {', '.join(loaded) or 'none'}; "
          f"not loaded: {', '.join(p for p in HEAVY if p not in loaded)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
