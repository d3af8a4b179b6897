"""The log tail and its matcher in a child process: `python -m warroom.aws.tail_worker`.

Decoding big FilterLogEvents answers and matching their lines hold the GIL; in the
console's process they would delay every keypress and frame. The child does that work
and sends the console batches of plain tuples; the console only turns them back into
records (see `warroom.tui.feeds`).

Protocol, over the child's stdin and stdout: frames of a 4-byte big-endian length and a
pickle. The parent writes one frame, the `Config`; the child then writes messages:

    ("batch", [row, ...])   records in timestamp order (`row` from `encode`)
    ("ok",)                 the source works (the store's `source_ok`)
    ("failed", text)        a failure in plain words (the store's `source_failed`)
    ("throttled", n)        the tail's throttled count so far

The child exits when its stdin reaches EOF, so it cannot outlive the console however
that ends (quit, Ctrl-C, crash, SIGKILL). The same `follow` loop runs in-process against
an `IncidentStore` when no child is wanted.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import struct
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from warroom.aws.session import AwsOptions, AwsSession, explain
from warroom.incident.records import Record
from warroom.playbook.matcher import Match, Matcher
from warroom.playbook.model import Playbook

RETRY_EVERY = 10.0       # s before retrying a tail that failed outright
STATS_EVERY = 1.0
CHUNK = 2_000            # records per batch message: the reader decodes one at a time
HEADER = struct.Struct(">I")

Row = tuple[str, str, str, int, str, str, "int | None", "tuple[tuple[Any, ...], ...] | None"]


class Sink(Protocol):
    """Where `follow` puts what it reads: an IncidentStore, or the pipe to the console."""

    stats: Any

    def push(self, records: list[Record]) -> None: ...

    def source_ok(self) -> None: ...

    def source_failed(self, message: str) -> None: ...


@dataclass
class Config:
    """What the console tells the child: where to read and what to recognise."""

    options: AwsOptions
    specs: list[str]
    since_ms: int | None
    playbooks: list[Playbook] = field(default_factory=list)
    engine: str = "auto"
    matcher: bool = True
    retry_every: float = RETRY_EVERY
    stats_every: float = STATS_EVERY


def config_for(options: AwsOptions, specs: Sequence[str], since_ms: int | None,
               matcher: Matcher | None) -> Config:
    playbooks: dict[str, Playbook] = {}
    if matcher is not None:
        for entry in matcher.entries:
            playbooks.setdefault(entry.playbook.id, entry.playbook)
    return Config(options, list(specs or ("",)), since_ms, list(playbooks.values()),
                  matcher.engine if matcher is not None else "auto", matcher is not None)


# -- the loop (either side) ---------------------------------------------------------------

async def follow(sink: Sink, aws: AwsSession | AwsOptions, matcher: Matcher | None,
                 specs: Sequence[str] = ("",), since_ms: int | None = None,
                 retry_every: float = RETRY_EVERY, stats_every: float = STATS_EVERY) -> None:
    """Follow the log groups; batches go to `sink.push`, pacing stats to `sink.stats`."""
    from warroom.aws.logtail import LogTail, TailOptions

    options = aws.options if isinstance(aws, AwsSession) else aws
    while True:
        tail = LogTail(options, specs or ("",), matcher, TailOptions(since_ms=since_ms))
        watcher = asyncio.create_task(_watch_tail(sink, tail, stats_every))
        try:
            async for batch in tail.batches():
                sink.push(batch)
                if batch:
                    sink.source_ok()
                    since_ms = max(since_ms or 0, max(r.timestamp for r in batch) - 60_000)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - shown, then the tail starts again
            sink.source_failed(f"log tail: {explain(exc, options)}")
        finally:
            watcher.cancel()
            await tail.aclose()
        await asyncio.sleep(retry_every)


async def _watch_tail(sink: Sink, tail: object, every: float) -> None:
    """Turn the tail's pacing counters into throttled counts and a connection state."""
    last_calls = last_failed = 0
    while True:
        await asyncio.sleep(every)
        pacer = getattr(tail, "pacer", None)
        stats = getattr(pacer, "stats", None)
        if stats is None:
            continue
        sink.stats.throttled = stats.throttled
        failed = stats.throttled + stats.errors + stats.reconnects
        calls, new_failed = stats.calls - last_calls, failed - last_failed
        last_calls, last_failed = stats.calls, failed
        if calls and new_failed >= calls and stats.errors + stats.reconnects:
            sink.source_failed(f"CloudWatch Logs calls are failing ({stats.errors} server errors, "
                               f"{stats.reconnects} dropped connections so far); retrying")
        elif calls > new_failed:
            sink.source_ok()


# -- wire format --------------------------------------------------------------------------

def encode(records: Sequence[Record]) -> list[Row]:
    """Records as plain tuples: several times cheaper to pickle and unpickle than dataclasses."""
    return [(r.source, r.group, r.stream, r.timestamp, r.event_id, r.message, r.ingestion_time,
             tuple((m.playbook, m.title, m.start, m.end, m.captures, m.priority) for m in r.matches)
             if r.matches else None)
            for r in records]


def decode(rows: Sequence[Row]) -> list[Record]:
    """`encode`'s rows back into records; repeated names share one string."""
    intern = sys.intern
    out = []
    append = out.append
    for source, group, stream, ts, event_id, message, ingested, matches in rows:
        found = [Match(intern(p), intern(t), s, e, c, pr) for p, t, s, e, c, pr in matches] \
            if matches else []
        append(Record(intern(source), intern(group), intern(stream), ts, event_id, message,
                      ingested, found))
    return out


def frame(obj: object) -> bytes:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(data)) + data


def read_frame(stream: BinaryIO) -> Any:
    """One frame from a blocking stream; EOFError at its end."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        raise EOFError
    size = HEADER.unpack(head)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)  # our own parent process


async def aread_frame(reader: asyncio.StreamReader) -> Any:
    """One frame from an asyncio stream; asyncio.IncompleteReadError at its end."""
    size = HEADER.unpack(await reader.readexactly(HEADER.size))[0]
    return pickle.loads(await reader.readexactly(size))  # our own child process


# -- the child side -----------------------------------------------------------------------

class _PipeStats:
    def __init__(self, send: Any) -> None:
        self._send = send
        self._throttled = 0

    @property
    def throttled(self) -> int:
        return self._throttled

    @throttled.setter
    def throttled(self, value: int) -> None:
        if value != self._throttled:
            self._throttled = value
            self._send(("throttled", value))


class PipeSink:
    """A Sink that writes the protocol's messages to a binary stream."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.stats = _PipeStats(self.send)

    def send(self, message: tuple[Any, ...]) -> None:
        # A blocking write: when the console reads slowly the tail waits (nothing is lost).
        self.out.write(frame(message))
        self.out.flush()

    def push(self, records: list[Record]) -> None:
        for i in range(0, len(records), CHUNK):
            self.send(("batch", encode(records[i:i + CHUNK])))

    def source_ok(self) -> None:
        self.send(("ok",))

    def source_failed(self, message: str) -> None:
        self.send(("failed", message))


def _watch_parent(stdin: BinaryIO) -> None:
    try:
        while stdin.read(65536):
            pass
    finally:
        os._exit(0)


def main() -> None:
    stdin = sys.stdin.buffer
    # The protocol owns the real stdout; a stray print goes to stderr instead.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        config: Config = read_frame(stdin)
    except EOFError:
        return
    threading.Thread(target=_watch_parent, args=(stdin,), daemon=True).start()
    sink = PipeSink(out)
    try:
        matcher = Matcher(config.playbooks, config.engine) if config.matcher else None
        asyncio.run(follow(sink, config.options, matcher, config.specs, config.since_ms,
                           config.retry_every, config.stats_every))
    except BrokenPipeError:
        pass
    except BaseException as exc:  # noqa: BLE001 - told to the console, which restarts us
        try:
            sink.source_failed(f"log tail: {type(exc).__name__}: {exc}")
        except OSError:
            pass
    finally:
        os._exit(0)


if __name__ == "__main__":
    main()
