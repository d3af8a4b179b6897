"""Sources that fill the incident store: the log tail and the periodic health check.

No Textual here: the console runs these as workers, the bench and tests can too. Each
feed keeps going through AWS failures (reporting them in the store's connection state)
and only returns when cancelled.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from warroom.aws import tail_worker
from warroom.aws.scope import Scope
from warroom.aws.session import AwsOptions, AwsSession, explain
from warroom.incident.store import IncidentStore
from warroom.playbook.catalog import Catalog
from warroom.playbook.matcher import Matcher

CHECK_EVERY = 60.0       # s between health checks (discovery, probes, metrics, alarms)
RETRY_EVERY = 10.0       # s before retrying a feed that failed outright
STATS_EVERY = 1.0

Feed = Callable[[IncidentStore], Awaitable[None]]
T = TypeVar("T")


async def tail_feed(store: IncidentStore, session: AwsSession, matcher: Matcher | None,
                    specs: Sequence[str] = ("",), since_ms: int | None = None, *,
                    in_process: bool = False) -> None:
    """Follow the log groups; batches go to `store.push`, pacing stats to the status bar.

    The tail and its matcher run in a child process (`warroom.aws.tail_worker`): decoding
    big FilterLogEvents pages and matching their lines hold the GIL, and in this process
    they would delay keypresses and frames. Here only the batches are read and turned back
    into records. `in_process` runs the same loop here instead.
    """
    if in_process:
        await tail_worker.follow(store, session, matcher, specs, since_ms, RETRY_EVERY, STATS_EVERY)
        return
    while True:
        config = tail_worker.config_for(session.options, specs, since_ms, matcher)
        config.retry_every, config.stats_every = RETRY_EVERY, STATS_EVERY
        try:
            since_ms = await _tail_child(store, config)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - shown, then the tail starts again
            store.source_failed(f"log tail: {explain(exc, session.options)}")
        await asyncio.sleep(RETRY_EVERY)


async def _tail_child(store: IncidentStore, config: tail_worker.Config) -> int | None:
    """Run one tail child until it ends; returns where a new one should start reading."""
    since_ms = config.since_ms
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "warroom.aws.tail_worker",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, env=_child_env(),
        start_new_session=True,  # Ctrl-C in the terminal is the console's to handle
        limit=1 << 20)
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(tail_worker.frame(config))
        await process.stdin.drain()
        read, decode = tail_worker.aread_frame, tail_worker.decode
        while True:
            try:
                message = await read(process.stdout)
            except asyncio.IncompleteReadError:
                code = await process.wait()
                store.source_failed(f"log tail: the tail process stopped (exit code {code}); "
                                    f"restarting")
                return since_ms
            kind = message[0]
            if kind == "batch":
                records = decode(message[1])
                store.push(records)
                if records:
                    since_ms = max(since_ms or 0, records[-1].timestamp - 60_000)
            elif kind == "ok":
                store.source_ok()
            elif kind == "failed":
                store.source_failed(message[1])
            elif kind == "stalled":
                store.source_stalled(message[1])
            elif kind == "throttled":
                store.stats.throttled = message[1]
            elif kind == "logs":
                store.stats.logs = message[1]
    finally:
        await _stop_child(process)


async def _stop_child(process: asyncio.subprocess.Process) -> None:
    """Close the child's stdin (it exits on EOF), wait a little, then kill it."""
    if process.stdin is not None:
        try:
            process.stdin.close()
        except (OSError, RuntimeError):
            pass
    if process.returncode is None:
        try:
            await asyncio.wait_for(process.wait(), 5.0)
        except TimeoutError:
            process.kill()
            await process.wait()
        except asyncio.CancelledError:
            process.kill()
            raise


def _child_env() -> dict[str, str]:
    """This environment, with warroom importable even when it is not installed."""
    import warroom

    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(warroom.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


async def check_feed(store: IncidentStore, session: AwsSession, catalog: Catalog,
                     prefixes: Sequence[str] = (), every: float = CHECK_EVERY, *,
                     scope: Scope | None = None, regions: Sequence[AwsOptions] = ()) -> None:
    """Discovery, probes, metric symptoms and alarms, once now and then every `every` s,
    in each of `regions` (default: the session's) and within `scope` (default: `prefixes`).

    The checker (its matcher, its AWS answers) runs on its own thread and event loop,
    with its own sessions, so that a round does not stall the UI; its results are applied
    to the store here, on the caller's loop.
    """
    from warroom.aws.regions import RegionalChecker

    own = [AwsSession(options) for options in regions or (session.options,)]

    async def build() -> RegionalChecker:
        return RegionalChecker(own, catalog, scope or Scope(prefixes=tuple(prefixes)))

    async def close() -> None:
        await asyncio.gather(*(s.aclose() for s in own))

    worker = _LoopThread("warroom-check")
    try:
        await _check_rounds(store, await worker.run(build()), worker, session, every)
    finally:
        await worker.close(close)


async def _check_rounds(store: IncidentStore, checker: object, worker: _LoopThread,
                        session: AwsSession, every: float) -> None:
    from warroom.aws.regions import RegionalChecker

    assert isinstance(checker, RegionalChecker)
    seen: deque[str] = deque(maxlen=50_000)
    seen_set: set[str] = set()
    while True:
        started = time.monotonic()
        try:
            result = await worker.run(checker.run_once())
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


class _LoopThread:
    """An event loop on a thread of its own: coroutines run there, results come back here."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        # Cancelling the await here cancels the task over there.
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def close(self, cleanup: Callable[[], Coroutine[Any, Any, object]] | None = None) -> None:
        try:
            if cleanup is not None:
                await self.run(cleanup())
        except Exception:  # noqa: BLE001, S110 - closing anyway
            pass
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            await asyncio.get_running_loop().run_in_executor(None, self.thread.join, 5.0)
            if not self.thread.is_alive():
                self.loop.close()


def in_thread(feed: Feed, name: str = "warroom-feed") -> Feed:
    """Run a feed on its own event loop in a thread.

    Whatever a feed does synchronously (for the log tail: reading its child's batches
    and turning them into records; in-process, parsing and matching too) stays off the
    UI's loop. The feed only appends to `store.pending` (a deque: safe across threads),
    which the UI drains.
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
