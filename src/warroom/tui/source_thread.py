"""The one way sources run: each on an event loop of its own, on a thread of its own.

A source is a coroutine that only posts events (`warroom.incident.source_events`) into
the console's inbox; whatever it does synchronously (reading its tail child's batches and
turning them into records, a health check's parsing) stays off the UI's loop. No Textual
here: the console, the bench and the tests run sources the same way.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from warroom.incident import source_events as ev

Post = ev.Post


@dataclass(frozen=True)
class Feed:
    """A source under its name: `run(post)` posts that name's events until cancelled."""

    name: str
    run: Callable[[Post], Awaitable[None]]
    starting: str = ""  # said from the first frame on, until the source itself says something
    mailbox: ev.Mailbox | None = None  # where the console's commands for it go (a log tail's)


async def run_on_thread(feed: Feed, post: Post, explain: Callable[[Exception], str] = str) -> None:
    """Run `feed` on a thread and loop of its own until it ends or this is cancelled.

    Cancelling the caller cancels the feed over there and waits for its thread. An error
    the feed did not handle is posted as its failure (in `explain`'s words), not raised:
    the console keeps going.
    """
    outer = asyncio.get_running_loop()
    finished: asyncio.Future[BaseException | None] = outer.create_future()
    box: dict[str, object] = {}
    lock = threading.Lock()  # the task exists, or the cancel is recorded for it: never neither

    def report(error: BaseException | None) -> None:
        if not finished.done():
            finished.set_result(error)

    def target() -> None:
        loop = asyncio.new_event_loop()
        task = loop.create_task(feed.run(post))
        with lock:
            box["loop"], box["task"] = loop, task
            if box.get("cancelled"):
                task.cancel()
        error: BaseException | None = None
        try:
            loop.run_until_complete(task)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's loop
            error = exc
        finally:
            loop.close()
            try:
                outer.call_soon_threadsafe(report, error)
            except RuntimeError:
                pass  # the caller's loop is already closed: nobody is waiting

    # A CPU-bound source thread would otherwise make the UI wait up to 5 ms for the GIL
    # after every select(); 1 ms keeps key handling and frames prompt.
    sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
    thread = threading.Thread(target=target, name=f"warroom-{feed.name}", daemon=True)
    thread.start()
    try:
        error = await asyncio.shield(finished)
    except asyncio.CancelledError:
        with lock:
            box["cancelled"] = True
            loop, task = box.get("loop"), box.get("task")
        if isinstance(loop, asyncio.AbstractEventLoop) and isinstance(task, asyncio.Task):
            try:
                loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:
                pass
        await asyncio.get_running_loop().run_in_executor(None, thread.join, 5.0)
        raise
    if isinstance(error, Exception):
        post(ev.Failed(feed.name, explain(error)))
