"""The `/` filter on a full buffer: time to refilter once (what each keystroke in the box costs).

Plain text runs on Python's `re`; text with regex syntax on RE2, linear in the line whatever
the pattern (a backtracking `(a+)+$` over a hostile line would freeze the console for good).
Also prints the same regexes on `re`, for what the linear engine costs.

Then the console itself, headless at 160x48 with the buffer full (a tenth of the events
JSON, a tenth multi-line): each key's time from sent to the first frame written after it
took effect (wrap, filter keystrokes, symptom jumps, J, z, top/follow; a filter keystroke
searches the newest lines first and the rest of the buffer between keys and frames, so it
also says when the whole buffer was searched), and what laying out a screen of
JSON events costs (at 5,000 events/s only the rows on screen are laid out, 10 times a second).

    .venv/bin/python bench/filter.py [--lines 100000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import re
import statistics
import time

from warroom.incident.records import Record
from warroom.incident.store import Ring
from warroom.tui.logmodel import Literal, LogModel, compile_filter

TEXTS = ("timed out", "time.*out", r"Duration: \d+", "(a+)+$")
BASE_MS = 1_714_558_500_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20, help="presses of each key")
    args = parser.parse_args()
    filter_model(args.lines)
    asyncio.run(console_keys(args.lines, args.repeat))


def filter_model(lines: int) -> None:
    """Refilter the model alone, per engine."""
    args = argparse.Namespace(lines=lines)
    ring = Ring(args.lines)
    for i in range(args.lines):
        message = ("2024-05-01T10:15:32.123Z 3f9c Task timed out after 30.03 seconds" if i % 3 == 0
                   else f"REPORT RequestId: {i:08x} Duration: 12.3 ms Memory Size: 512 MB")
        ring.append(Record("logs", f"/aws/lambda/fn-{i % 8}", "s", BASE_MS + i, str(i), message))
    model = LogModel(ring, lambda: BASE_MS)
    model.extend(list(ring.seqs()))
    print(f"{args.lines:,} lines in the buffer")
    for text in TEXTS:
        engine = "text" if isinstance(compile_filter(text), Literal) else "RE2"
        start = time.perf_counter()
        model.set_filter(text)
        took = time.perf_counter() - start
        print(f"  {text!r:18} {engine:4} {took * 1000:7.1f} ms  {len(model):,} shown")
    for text in TEXTS[1:3]:
        pattern = re.compile(text, re.IGNORECASE)
        start = time.perf_counter()
        shown = sum(1 for r in ring if pattern.search(r.message) or pattern.search(r.group))
        took = time.perf_counter() - start
        print(f"  {text!r:18} re   {took * 1000:7.1f} ms  {shown:,} shown (backtracking, for comparison)")


def _message(i: int) -> str:
    if i % 10 == 0:
        return json.dumps({"level": "ERROR" if i % 20 == 0 else "INFO", "location": "handler:12",
                           "message": "Task timed out after 30.03 seconds" if i % 30 == 0 else "handled",
                           "timestamp": "2024-05-01 10:17:29,001", "service": "persona",
                           "xray_trace_id": f"1-{i:08x}-abc"})
    if i % 10 == 5:
        return ("[ERROR] Runtime.ImportModuleError: Unable to import module 'app'\n"
                "Traceback (most recent call last):\n  File \"/var/task/app.py\", line 3\n")
    if i % 3 == 0:
        return "2024-05-01T10:15:32.123Z 3f9c Task timed out after 30.03 seconds"
    return f"REPORT RequestId: {i:08x} Duration: 12.3 ms Memory Size: 512 MB"


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


async def console_keys(lines: int, repeat: int) -> None:
    from textual import events

    from warroom.playbook.catalog import load_catalog
    from warroom.playbook.matcher import Matcher
    from warroom.tui import lines as text_lines
    from warroom.tui.app import ConsoleApp
    from warroom.tui.statusbar import Target
    from warroom.incident.store import IncidentStore

    catalog = load_catalog()
    matcher = Matcher(catalog)
    store = IncidentStore(catalog, capacity=lines, clock=lambda: BASE_MS / 1000 + lines / 1000)
    cache: dict[str, list] = {}
    records = []
    for i in range(lines):
        message = _message(i)
        group = f"/aws/lambda/fn-{i % 8}"
        key = message if "RequestId" not in message else "report"
        if key not in cache:
            cache[key] = matcher.match(message, group)
        records.append(Record("logs", group, "s", BASE_MS + i, str(i), message, matches=cache[key]))
    store.push(records)
    app = ConsoleApp(store, Target(region="us-east-1"), timers=False)
    print(f"\nconsole keys, {lines:,} lines in the buffer, 160x48 (ms from the key sent to the first "
          "frame written after it took effect; a filter keystroke: also until the whole buffer is searched)")
    async with app.run_test(size=(160, 48)) as pilot:
        app.pump()
        await pilot.pause()
        # As the console runs with its sources: full collections off Python's schedule.
        schedule_gc = getattr(app, "_schedule_gc", None)
        if schedule_gc is not None:
            schedule_gc()
        pauses: list[float] = []
        gc_started = [0.0]

        def on_gc(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                gc_started[0] = time.perf_counter()
            else:
                pauses.append(time.perf_counter() - gc_started[0])

        gc.callbacks.append(on_gc)
        logs = app.main.logs
        frames: list[float] = []
        done: dict[str, list[float]] = {"action": [], "refilter": []}
        display, dispatch, refilter = app._display, app._dispatch_action, logs.refilter

        def on_display(screen, renderable):  # type: ignore[no-untyped-def]
            frames.append(time.perf_counter())
            return display(screen, renderable)

        async def on_dispatch(*args, **kwargs):  # type: ignore[no-untyped-def]
            result = await dispatch(*args, **kwargs)
            done["action"].append(time.perf_counter())
            return result

        def on_refilter() -> None:
            refilter()
            done["refilter"].append(time.perf_counter())

        app._display = on_display  # type: ignore[method-assign]
        app._dispatch_action = on_dispatch  # type: ignore[method-assign]
        logs.refilter = on_refilter  # type: ignore[method-assign]
        chars = {"slash": "/", "backspace": "\x08", "escape": "\x1b"}

        async def press(key: str, signal: str = "action") -> tuple[float, float]:
            """(ms to the first frame after the key took effect, ms until the buffer is searched)."""
            seen = len(done[signal])
            sent = time.perf_counter()
            app._driver.send_message(events.Key(key, chars.get(key, key if len(key) == 1 else None)))  # type: ignore[union-attr]
            while len(done[signal]) == seen:
                await asyncio.sleep(0)
            took = done[signal][seen]
            while not frames or frames[-1] < took:
                await asyncio.sleep(0)
            frame = next(f for f in frames if f >= took)
            while not logs.model.complete:
                await asyncio.sleep(0.001)
            searched = time.perf_counter()
            await pilot.pause()  # the next key on a quiet console
            return (frame - sent) * 1000, (searched - sent) * 1000

        plan = (("w (wrap on/off)", (), "w", "action"), ("n (newest symptom, after End)", ("end",), "n", "action"),
                ("N (previous symptom)", (), "N", "action"), ("j / k", (), "j", "action"),
                ("g (top)", (), "g", "action"), ("End (follow)", (), "end", "action"),
                ("J (raw JSON on/off)", (), "J", "action"), ("z (UTC/local)", (), "z", "action"),
                ("filter: first keystroke 't'", ("slash",), "t", "refilter"),
                ("filter: keystroke 'i' after 't'", ("slash", "t"), "i", "refilter"),
                ("filter: backspace 'ti' -> 't'", ("slash", "t", "i"), "backspace", "refilter"),
                ("filter: regex 'ti.e'", ("slash", "t", "i", "full_stop"), "e", "refilter"))
        for label, setup, key, signal in plan:
            frame_ms, searched_ms = [], []
            for _ in range(repeat):
                if setup:
                    await pilot.press(*setup)
                f, s = await press(key, signal)
                frame_ms.append(f)
                searched_ms.append(s)
                if setup and setup[0] == "slash":
                    await pilot.press("ctrl+u", "escape", "escape")
            extra = f"   searched in p50 {statistics.median(searched_ms):6.1f}" if signal == "refilter" else ""
            print(f"  {label:34} p50 {statistics.median(frame_ms):6.1f}  p95 {_p95(frame_ms):6.1f}  "
                  f"max {max(frame_ms):6.1f}{extra}")
        gc.callbacks.remove(on_gc)
        print(f"  garbage collections during the keys: {len(pauses)}, longest {max(pauses, default=0) * 1000:.1f} ms")
        styles = logs._styles()
        json_records = [r for r in records[:5000] if r.message.startswith("{")]
        start = time.perf_counter()
        for r in json_records:
            text_lines.event_lines(r, styles)
        per = (time.perf_counter() - start) / len(json_records)
        print(f"  JSON event laid out: {per * 1e6:.1f} µs; a 44-row screen of them {per * 44 * 1000:.2f} ms "
              f"per frame (10 frames/s at any event rate: {per * 440 * 100:.2f}% of a core)")


if __name__ == "__main__":
    main()
