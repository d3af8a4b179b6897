"""Sources that fill the incident store: the log tail and the periodic health check.

No Textual here: the console runs these as workers, the bench and tests can too. Each
feed keeps going through AWS failures (reporting them in the store's connection state)
and only returns when cancelled.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from warroom.aws.session import AwsSession, explain
from warroom.incident.store import IncidentStore
from warroom.playbook.catalog import Catalog
from warroom.playbook.matcher import Matcher

CHECK_EVERY = 60.0       # s between health checks (discovery, probes, metrics, alarms)
RETRY_EVERY = 10.0       # s before retrying a feed that failed outright
STATS_EVERY = 1.0

Feed = Callable[[IncidentStore], Awaitable[None]]


async def tail_feed(store: IncidentStore, session: AwsSession, matcher: Matcher,
                    specs: Sequence[str] = ("",), since_ms: int | None = None) -> None:
    """Follow the log groups; batches go to `store.push`, pacing stats to the status bar."""
    from warroom.aws.logtail import LogTail, TailOptions

    while True:
        tail = LogTail(session, specs or ("",), matcher, TailOptions(since_ms=since_ms))
        watcher = asyncio.create_task(_watch_tail(store, tail))
        try:
            async for batch in tail.batches():
                store.push(batch)
                if batch:
                    store.source_ok()
                    since_ms = max(since_ms or 0, max(r.timestamp for r in batch) - 60_000)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - shown, then the tail starts again
            store.source_failed(f"log tail: {explain(exc, session.options)}")
        finally:
            watcher.cancel()
            await tail.aclose()
        await asyncio.sleep(RETRY_EVERY)


async def _watch_tail(store: IncidentStore, tail: object) -> None:
    """Turn the tail's pacing counters into throttled counts and a connection state."""
    last_calls = last_failed = 0
    while True:
        await asyncio.sleep(STATS_EVERY)
        pacer = getattr(tail, "pacer", None)
        stats = getattr(pacer, "stats", None)
        if stats is None:
            continue
        store.stats.throttled = stats.throttled
        failed = stats.throttled + stats.errors + stats.reconnects
        calls, new_failed = stats.calls - last_calls, failed - last_failed
        last_calls, last_failed = stats.calls, failed
        if calls and new_failed >= calls and stats.errors + stats.reconnects:
            store.source_failed(f"CloudWatch Logs calls are failing ({stats.errors} server errors, "
                                f"{stats.reconnects} dropped connections so far); retrying")
        elif calls > new_failed:
            store.source_ok()


async def check_feed(store: IncidentStore, session: AwsSession, catalog: Catalog,
                     prefixes: Sequence[str] = (), every: float = CHECK_EVERY) -> None:
    """Discovery, probes, metric symptoms and alarms, once now and then every `every` s."""
    from warroom.aws.health import Checker

    checker = Checker(session, catalog, prefixes)
    seen: deque[str] = deque(maxlen=50_000)
    seen_set: set[str] = set()
    while True:
        started = time.monotonic()
        try:
            result = await checker.run_once()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - shown; the next round may work
            store.source_failed(f"health check: {explain(exc, session.options)}")
        else:
            store.set_resources(result.resources)
            store.set_check_findings(result.findings)
            store.warnings = list(result.warnings)
            fresh = []
            for record in result.records:
                key = f"{record.group}\x00{record.event_id}"
                if key not in seen_set:
                    if len(seen) == seen.maxlen:
                        seen_set.discard(seen[0])
                    seen.append(key)
                    seen_set.add(key)
                    fresh.append(record)
            store.push(sorted(fresh, key=lambda r: r.timestamp))
            store.source_ok()
        await asyncio.sleep(max(1.0, every - (time.monotonic() - started)))


def in_thread(feed: Feed, name: str = "warroom-feed") -> Feed:
    """Run a feed on its own event loop in a thread.

    Parsing big AWS answers and matching thousands of lines are synchronous; on the UI's
    loop they would hold every keypress for hundreds of milliseconds. The feed only
    appends to `store.pending` (a deque: safe across threads), which the UI drains.
    """

    async def run(store: IncidentStore) -> None:
        outer = asyncio.get_running_loop()
        finished: asyncio.Future[BaseException | None] = outer.create_future()
        box: dict[str, object] = {}

        def report(error: BaseException | None) -> None:
            if not finished.done():
                finished.set_result(error)

        def target() -> None:
            loop = asyncio.new_event_loop()
            task = loop.create_task(feed(store))
            box["loop"], box["task"] = loop, task
            error: BaseException | None = None
            try:
                loop.run_until_complete(task)
            except BaseException as exc:  # noqa: BLE001 - handed to the UI's loop
                error = exc
            finally:
                loop.close()
                try:
                    outer.call_soon_threadsafe(report, error)
                except RuntimeError:
                    pass  # the UI's loop is already closed: nobody is waiting

        # A CPU-bound feed thread would otherwise make the UI wait up to 5 ms for the GIL
        # after every select(); 1 ms keeps key handling and frames prompt.
        sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        try:
            error = await asyncio.shield(finished)
        except asyncio.CancelledError:
            loop, task = box.get("loop"), box.get("task")
            if isinstance(loop, asyncio.AbstractEventLoop) and isinstance(task, asyncio.Task):
                try:
                    loop.call_soon_threadsafe(task.cancel)
                except RuntimeError:
                    pass
            await asyncio.get_running_loop().run_in_executor(None, thread.join, 5.0)
            raise
        if error is not None and not isinstance(error, asyncio.CancelledError):
            raise error

    return run
