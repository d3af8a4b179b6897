"""The console's commands to a log tail, applied to whichever LogTail is running.

`Narrow` (a filter pattern at the source) and `Prioritise` (the groups that get Live Tail
sessions first) are states: each new LogTail is told the ones in force. A `Lookup` runs on
its own and is answered with a `Found` event.
"""

from __future__ import annotations

import asyncio
from typing import Any

from warroom.aws.session import AwsOptions, explain
from warroom.incident import source_events as ev

Post = ev.Post


class Control:
    """The console's commands applied to whichever LogTail is running; the standing ones
    (`Narrow`, `Prioritise`) again to each new one."""

    def __init__(self, post: Post, source: str, options: AwsOptions) -> None:
        self.post = post
        self.source = source
        self.options = options
        self.tail: Any = None
        self.narrow: ev.Narrow | None = None
        self.prioritise: ev.Prioritise | None = None
        self._lookups: set[asyncio.Task[None]] = set()

    def attach(self, tail: Any) -> None:
        self.tail = tail
        if tail is not None:
            if self.narrow is not None:
                tail.set_filter_pattern(self.narrow.pattern)
            if self.prioritise is not None:
                tail.set_priority(self.prioritise.groups)

    async def serve(self, mailbox: ev.Mailbox) -> None:
        for command in mailbox.standing():
            self.handle(command)
        while True:
            self.handle(await mailbox.get())

    def handle(self, command: ev.Command) -> None:
        if isinstance(command, ev.Narrow):
            self.narrow = command
            if self.tail is not None:
                self.tail.set_filter_pattern(command.pattern)
        elif isinstance(command, ev.Prioritise):
            self.prioritise = command
            if self.tail is not None:
                self.tail.set_priority(command.groups)
        else:
            task = asyncio.create_task(self._lookup(command))
            self._lookups.add(task)
            task.add_done_callback(self._lookups.discard)

    async def _lookup(self, command: ev.Lookup) -> None:
        tail = self.tail
        if tail is None:
            self.post(ev.Found(self.source, command.token, error="the log tail is starting again; "
                                                               "press R once more in a moment"))
            return
        try:
            records = await tail.lookup(command.term, command.start_ms, command.end_ms,
                                        command.groups or None)
        except asyncio.CancelledError:
            raise
        except ValueError as exc:
            self.post(ev.Found(self.source, command.token, error=str(exc)))
        except Exception as exc:  # noqa: BLE001 - said in the console, which keeps going
            self.post(ev.Found(self.source, command.token, error=explain(exc, self.options)))
        else:
            self.post(ev.Found(self.source, command.token, records))
