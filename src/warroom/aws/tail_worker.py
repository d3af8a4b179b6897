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
    ("stalled", text)       reading or matching has fallen behind (the store's `source_stalled`)
    ("throttled", n)        the tail's throttled count so far
    ("logs", text)          how the tail reads, in a few words (`describe`), when it changes

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
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from warroom.aws.session import AwsOptions, AwsSession, explain
from warroom.incident.records import Record
from warroom.playbook.matcher import Match, Matcher
from warroom.playbook.model import Playbook

if TYPE_CHECKING:
    from warroom.aws.credentials import CredentialState

RETRY_EVERY = 10.0       # s before retrying a tail that failed outright
STALL_AFTER = 10.0       # s behind before the source is shown as stalled
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

    def source_stalled(self, message: str) -> None: ...


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
                 retry_every: float = RETRY_EVERY, stats_every: float = STATS_EVERY,
                 stall_after: float = STALL_AFTER) -> None:
    """Follow the log groups; batches go to `sink.push`, pacing stats to `sink.stats`."""
    from warroom.aws.logtail import LogTail, TailOptions

    options = aws.options if isinstance(aws, AwsSession) else aws
    while True:
        # Not held back for time order: with many groups the backfill within the
        # FilterLogEvents budget takes a while, and live lines should not wait for it.
        tail = LogTail(options, specs or ("",), matcher, TailOptions(since_ms=since_ms, merge_since=False))
        # Expired credentials are waited out inside the tail: the status bar says so meanwhile.
        tail.credentials.listen(lambda state: _tell_credentials(sink, state))
        watcher = asyncio.create_task(_watch_tail(sink, tail, stats_every, stall_after))
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


def _tell_credentials(sink: Sink, state: CredentialState) -> None:
    """An expiry as the source's failure (the line says how to renew); renewed, working again."""
    if not state.expired:
        sink.source_ok()
    elif not state.attempts:  # not again for each re-read that still failed
        sink.source_failed(state.line)


async def _watch_tail(sink: Sink, tail: Any, every: float, stall_after: float = STALL_AFTER) -> None:
    """Turn the tail's pacing counters into throttled counts and a connection state: failing
    once every attempt has failed for `every` seconds (Live Tail makes few calls, so a
    share of failed calls says little), stalled while reading or matching is `stall_after`
    seconds behind, working again at the first answer in time."""
    failing = False
    last_filter = 0
    while True:
        began = time.monotonic()
        await asyncio.sleep(every)
        # Woken late: matching (on this loop) holds it up; or the tail's reads lag.
        behind = max(time.monotonic() - began - every, tail.behind())
        stats = tail.pacer.stats
        sink.stats.throttled = stats.throttled
        tail_stats = tail.stats()
        sink.stats.logs = describe(tail_stats, (tail_stats.filter_calls - last_filter) / every,
                                   tail.pacer.rates.get("FilterLogEvents", 5.0))
        last_filter = tail_stats.filter_calls
        since = stats.failing_since
        if tail.credentials.known_expired:
            continue  # said by the tail's credential listener, until they are renewed
        if since is not None and time.monotonic() - since >= every:
            failing = True
            sink.source_failed(f"CloudWatch Logs calls are failing ({stats.errors} server errors, "
                               f"{stats.reconnects} dropped connections so far); retrying")
        elif behind >= stall_after:
            sink.source_stalled(f"log tail {behind:.0f} s behind: the lines shown are late")
        elif since is None and (failing or stats.calls):
            failing = False
            sink.source_ok()


def describe(stats: Any, filter_rate: float, budget: float) -> str:
    """How the tail reads, for the status bar: `Live Tail 6×60 · Insights 50 · sampled:
    1,204 live, backfilling 3 · FilterLogEvents 0.8/1 per s`."""
    parts = []
    if stats.live_sessions:
        parts.append(f"Live Tail {stats.live_sessions}×{stats.live_groups}")
    elif stats.live_refused:
        parts.append("Live Tail refused: polling")
    if stats.insights_groups:
        parts.append(f"Insights {stats.insights_groups}")
    if stats.sampled:
        parts.append(f"sampled: {stats.live_events:,} live, backfilling {stats.backfilling}")
    parts.append(f"FilterLogEvents {filter_rate:.1f}/{budget:g} per s")
    return " · ".join(parts)


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
        self._logs = ""

    @property
    def logs(self) -> str:
        return self._logs

    @logs.setter
    def logs(self, value: str) -> None:
        if value != self._logs:
            self._logs = value
            self._send(("logs", value))

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

    def source_stalled(self, message: str) -> None:
        self.send(("stalled", message))


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
