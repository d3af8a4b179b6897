"""The console's sources: the log tail and the periodic health check.

No Textual here. Each runs on a thread of its own (`source_thread.run_on_thread`), keeps
going through AWS failures, posts what it finds and how it is doing as events
(`warroom.incident.source_events`) and only returns when cancelled.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import deque
from collections.abc import Sequence

from warroom.aws import tail_worker
from warroom.aws.scope import Scope
from warroom.aws.session import AwsOptions, AwsSession, explain
from warroom.incident import source_events as ev
from warroom.playbook.catalog import Catalog
from warroom.tui.source_thread import Post

CHECK_EVERY = 60.0       # s between health checks (discovery, probes, metrics, alarms)
CHECK = "health check"   # the check's source name
SEEN_CHECK_RECORDS = 50_000  # check records remembered, so that a round sends only new ones


async def tail_feed(post: Post, session: AwsSession, recognise: tail_worker.Recognise | None,
                    specs: Sequence[str] = ("",), since_ms: int | None = None, *,
                    in_process: bool = False, source: str = tail_worker.SOURCE,
                    mailbox: ev.Mailbox | None = None) -> None:
    """Follow the log groups, posting `source`'s batches and state; the console's commands
    come through `mailbox`.

    The tail and its matcher run in a child process (`warroom.aws.tail_worker`): decoding
    big FilterLogEvents pages and matching their lines hold the GIL, and in this process
    they would delay keypresses and frames. Here only the batches are read and turned back
    into records. `in_process` runs the same loop here instead.
    """
    if in_process:
        matcher = recognise.matcher() if recognise is not None else None
        await tail_worker.follow(post, session, matcher, specs, since_ms, source=source, mailbox=mailbox)
        return
    while True:
        config = tail_worker.config_for(session.options, specs, since_ms, recognise, source)
        try:
            since_ms = await _tail_child(post, config, mailbox)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - shown, then the tail starts again
            post(ev.Failed(source, f"log tail: {explain(exc, session.options)}"))
        await asyncio.sleep(config.retry_every)


async def _tail_child(post: Post, config: tail_worker.Config, mailbox: ev.Mailbox | None) -> int | None:
    """Run one tail child until it ends; returns where a new one should start reading."""
    since_ms = config.since_ms
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "warroom.aws.tail_worker",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, env=_child_env(),
        start_new_session=True,  # Ctrl-C in the terminal is the console's to handle
        limit=1 << 20)
    assert process.stdin is not None and process.stdout is not None
    forward = asyncio.create_task(_forward(mailbox, process.stdin)) if mailbox is not None else None
    try:
        process.stdin.write(tail_worker.frame(config))
        if mailbox is not None:  # what is in force already, before anything new
            for command in mailbox.standing():
                process.stdin.write(tail_worker.frame(command))
        await process.stdin.drain()
        while True:
            try:
                message = await tail_worker.aread_frame(process.stdout)
            except asyncio.IncompleteReadError:
                code = await process.wait()
                post(ev.Failed(config.source, f"log tail: the tail process stopped (exit code {code}); "
                                              f"restarting"))
                return since_ms
            event = tail_worker.receive(message, config.source)
            if isinstance(event, ev.Records):
                since_ms = tail_worker.resume_from(since_ms, event.records)
            post(event)
    finally:
        if forward is not None:
            forward.cancel()
        await _stop_child(process)


async def _forward(mailbox: ev.Mailbox, stdin: asyncio.StreamWriter) -> None:
    """The console's commands to the tail child, as they come."""
    while True:
        command = await mailbox.get()
        stdin.write(tail_worker.frame(command))
        await stdin.drain()


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


async def check_feed(post: Post, session: AwsSession, catalog: Catalog,
                     prefixes: Sequence[str] = (), every: float = CHECK_EVERY, *,
                     scope: Scope | None = None, regions: Sequence[AwsOptions] = (),
                     source: str = CHECK) -> None:
    """Discovery, probes, metric symptoms and alarms, once now and then every `every` s,
    in each of `regions` (default: the session's) and within `scope` (default: `prefixes`);
    each round posted as one `CheckResult`, with only the records not posted before."""
    from warroom.aws.regions import RegionalChecker

    own = [AwsSession(options) for options in regions or (session.options,)]
    try:
        checker = RegionalChecker(own, catalog, scope or Scope(prefixes=tuple(prefixes)))
        seen: deque[str] = deque(maxlen=SEEN_CHECK_RECORDS)
        seen_set: set[str] = set()
        told = False  # the resources, once: until a round has ended, the tail's findings need owners
        while True:
            started = time.monotonic()
            try:
                result = await checker.run_once(
                    discovered=None if told else lambda found: post(ev.Discovered(source, found)))
                told = True
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - shown; the next round may work
                post(ev.Failed(source, f"health check: {explain(exc, session.options)}"))
            else:
                fresh = []
                for record in result.records:
                    key = f"{record.group}\x00{record.event_id}"
                    if key not in seen_set:
                        if len(seen) == seen.maxlen:
                            seen_set.discard(seen[0])
                        seen.append(key)
                        seen_set.add(key)
                        fresh.append(record)
                post(ev.CheckResult(source, result.resources, result.findings, result.warnings,
                                    sorted(fresh, key=lambda r: r.timestamp)))
            await asyncio.sleep(max(1.0, every - (time.monotonic() - started)))
    finally:
        await asyncio.gather(*(s.aclose() for s in own), return_exceptions=True)
