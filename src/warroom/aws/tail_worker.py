"""The log tail and its matcher in a child process: `python -m warroom.aws.tail_worker`.

Decoding big FilterLogEvents answers and matching their lines hold the GIL; in the
console's process they would delay every keypress and frame. The child does that work
and sends the console batches of plain tuples; the console only turns them back into
records (see `warroom.tui.feeds`).

Protocol, over the child's stdin and stdout: frames of a 4-byte big-endian length and a
pickle. The parent writes one frame, the `Config`, then the console's commands as they come
(`Narrow`, `Prioritise`, `Lookup` of `warroom.incident.source_events`); the child writes:

    ("batch", [row, ...])                records in timestamp order (`row` from `encode`): `Records`
    ("found", token, [row, ...], error)  a `Lookup`'s answer: `Found`
    a source event                       any other `warroom.incident.source_events` event, as it is

The child exits when its stdin reaches EOF, so it cannot outlive the console however
that ends (quit, Ctrl-C, crash, SIGKILL). The same `follow` loop runs in-process, posting
its events straight into the console's inbox, when no child is wanted. Where a new tail
starts reading after an old one ended (`resume_from`) and how often it retries and reports
are decided here only.
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
from typing import TYPE_CHECKING, Any, BinaryIO

from warroom.aws.session import AwsOptions, AwsSession, explain
from warroom.aws.tail_control import Control
from warroom.incident import source_events as ev
from warroom.incident.records import Record
from warroom.playbook.cache import catalog_matcher
from warroom.playbook.matcher import Match, Matcher
from warroom.playbook.model import Playbook

if TYPE_CHECKING:
    from warroom.aws.credentials import CredentialState

RETRY_EVERY = 10.0       # s before retrying a tail that failed outright
STALL_AFTER = 10.0       # s behind before the source is shown as stalled
STATS_EVERY = 1.0
CHUNK = 2_000            # records per batch message: the reader decodes one at a time
RESUME_OVERLAP_MS = 60_000  # a new tail re-reads this much before the last record seen
HEADER = struct.Struct(">I")
SOURCE = "log tail"

Post = ev.Post

Row = tuple[str, str, str, int, str, str, "int | None", "tuple[tuple[Any, ...], ...] | None"]


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
    source: str = SOURCE     # the name its events carry


def resume_from(since_ms: int | None, records: Sequence[Record]) -> int | None:
    """Where a tail that replaces this one should start reading, having seen `records`:
    a little before the newest, since events arrive out of order."""
    if not records:
        return since_ms
    return max(since_ms or 0, max(r.timestamp for r in records) - RESUME_OVERLAP_MS)


@dataclass(frozen=True)
class Recognise:
    """What a tail recognises: playbooks and the matcher engine. The console only says so;
    the matcher is compiled where the lines are matched (the tail child)."""

    playbooks: Sequence[Playbook]
    engine: str = "auto"

    def matcher(self) -> Matcher:
        return catalog_matcher(self.playbooks, self.engine)


def config_for(options: AwsOptions, specs: Sequence[str], since_ms: int | None,
               recognise: Recognise | None, source: str = SOURCE) -> Config:
    return Config(options, list(specs or ("",)), since_ms,
                  list(recognise.playbooks) if recognise is not None else [],
                  recognise.engine if recognise is not None else "auto", recognise is not None, source=source)


# -- the loop (either side) ---------------------------------------------------------------

async def follow(post: Post, aws: AwsSession | AwsOptions, matcher: Matcher | None,
                 specs: Sequence[str] = ("",), since_ms: int | None = None,
                 retry_every: float = RETRY_EVERY, stats_every: float = STATS_EVERY,
                 stall_after: float = STALL_AFTER, source: str = SOURCE,
                 mailbox: ev.Mailbox | None = None) -> None:
    """Follow the log groups, posting batches and the tail's state as `source`'s events,
    and doing what the console asks through `mailbox`."""
    from warroom.aws.logtail import LogTail, TailOptions

    options = aws.options if isinstance(aws, AwsSession) else aws
    control = Control(post, source, options)
    commands = asyncio.create_task(control.serve(mailbox)) if mailbox is not None else None
    try:
        while True:
            # With many groups the backfill within the FilterLogEvents budget takes a while:
            # live lines do not wait for it, and it comes as one block in time order.
            tail = LogTail(options, specs or ("",), matcher, TailOptions(since_ms=since_ms, hold_live=False))
            since_ms = await _follow_one(post, tail, control, since_ms, stats_every, stall_after, source)
            await asyncio.sleep(retry_every)
    finally:
        if commands is not None:
            commands.cancel()


async def _follow_one(post: Post, tail: Any, control: Control, since_ms: int | None, stats_every: float,
                      stall_after: float, source: str) -> int | None:
    """Run one LogTail until it fails (said) or is cancelled; returns where the next one starts."""
    from warroom.aws.logtail import History

    control.attach(tail)
    # Expired credentials are waited out inside the tail: the status bar says so meanwhile.
    tail.credentials.listen(lambda state: _tell_credentials(post, source, state))
    watcher = asyncio.create_task(_watch_tail(post, source, tail, stats_every, stall_after))
    try:
        async for batch in tail.batches():
            if batch:
                post(ev.Records(source, batch, history=isinstance(batch, History)))
                since_ms = resume_from(since_ms, batch)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - shown, then the tail starts again
        post(ev.Failed(source, f"log tail: {explain(exc, control.options)}"))
    finally:
        watcher.cancel()
        control.attach(None)
        await tail.aclose()
    return since_ms


def _tell_credentials(post: Post, source: str, state: CredentialState) -> None:
    """An expiry as the source's failure (the line says how to renew); renewed, working again."""
    if not state.expired:
        post(ev.Ok(source))
    elif not state.attempts:  # not again for each re-read that still failed
        post(ev.Failed(source, state.line))


async def _watch_tail(post: Post, source: str, tail: Any, every: float,
                      stall_after: float = STALL_AFTER) -> None:
    """Turn the tail's pacing counters into throttled counts, its status and a connection
    state: failing once every attempt has failed for `every` seconds (Live Tail makes few
    calls, so a share of failed calls says little), stalled while reading or matching is
    `stall_after` seconds behind, working again at the first answer in time. Counts and
    status are posted when they change."""
    failing = False
    last_filter = 0
    said: dict[type, object] = {}

    def tell(event: ev.SourceEvent) -> None:
        if said.get(type(event)) != event:
            said[type(event)] = event
            post(event)

    while True:
        began = time.monotonic()
        await asyncio.sleep(every)
        # Woken late: matching (on this loop) holds it up; or the tail's reads lag.
        behind = max(time.monotonic() - began - every, tail.behind())
        stats = tail.pacer.stats
        tell(ev.Throttled(source, stats.throttled))
        tail_stats = tail.stats()
        status, sampled = tail_status(source, tail_stats, (tail_stats.filter_calls - last_filter) / every,
                                      tail.pacer.rates.get("FilterLogEvents", 5.0))
        tell(sampled)
        tell(status)
        last_filter = tail_stats.filter_calls
        since = stats.failing_since
        if tail.credentials.known_expired:
            continue  # said by the tail's credential listener, until they are renewed
        if since is not None and time.monotonic() - since >= every:
            failing = True
            post(ev.Failed(source, f"CloudWatch Logs calls are failing ({stats.errors} server errors, "
                                   f"{stats.reconnects} dropped connections so far); retrying"))
        elif behind >= stall_after:
            post(ev.Stalled(source, f"log tail {behind:.0f} s behind: the lines shown are late"))
        elif since is None and (failing or stats.calls):
            failing = False
            post(ev.Ok(source))


def tail_status(source: str, stats: Any, filter_rate: float, budget: float) -> tuple[ev.TailStatus, ev.Sampled]:
    """The tail's `TailStats` as the events the status bar reads."""
    status = ev.TailStatus(source, stats.live_sessions, stats.live_groups, bool(stats.live_refused),
                           stats.insights_groups, round(filter_rate, 1), budget,
                           stats.insights_filtered, stats.assigned_by)
    sampled = ev.Sampled(source, bool(stats.sampled), stats.live_events if stats.sampled else 0,
                         stats.backfilling if stats.sampled else 0)
    return status, sampled


def describe(stats: Any, filter_rate: float, budget: float) -> str:
    """How the tail reads, for the status bar: `Live Tail 6×60 · Insights 50 · sampled:
    1,204 live, backfilling 3 · FilterLogEvents 0.8/1 per s`."""
    status, sampled = tail_status(SOURCE, stats, filter_rate, budget)
    return status.text(sampled)


# -- wire format --------------------------------------------------------------------------

def encode(records: Sequence[Record]) -> list[Row]:
    """Records as plain tuples: several times cheaper to pickle and unpickle than dataclasses."""
    return [(r.source, r.group, r.stream, r.timestamp, r.event_id, r.message, r.ingestion_time,
             tuple((m.playbook, m.title, m.start, m.end, m.captures, m.priority) for m in r.matches)
             if r.matches else None)
            for r in records]


def decode(rows: Sequence[Row]) -> list[Record]:
    """`encode`'s rows back into records; repeated names share one string, and lines that
    match alike (the same symptom at the same place, the same captures) share one tuple of
    matches: a buffer of a recurring error holds its matches once, not once a line."""
    intern = sys.intern
    out = []
    append = out.append
    for source, group, stream, ts, event_id, message, ingested, matches in rows:
        found = _shared_matches(matches) if matches else ()
        append(Record(intern(source), intern(group), intern(stream), ts, event_id, message,
                      ingested, found))
    return out


_MATCHES: dict[tuple[Any, ...], tuple[Match, ...]] = {}
_MATCHES_KEPT = 4096  # kinds of match remembered; past it, forgotten all at once


def _shared_matches(rows: tuple[tuple[Any, ...], ...]) -> tuple[Match, ...]:
    """The matches of one line, as a tuple other lines that match alike share (matches are
    never changed after matching)."""
    key = tuple((p, t, s, e, tuple(c.items()), pr) for p, t, s, e, c, pr in rows)
    found = _MATCHES.get(key)
    if found is None:
        if len(_MATCHES) >= _MATCHES_KEPT:
            _MATCHES.clear()
        intern = sys.intern
        found = _MATCHES[key] = tuple(Match(intern(p), intern(t), s, e, c, pr) for p, t, s, e, c, pr in rows)
    return found


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

class PipePost:
    """Posts events over a binary stream, the protocol's way: batches as rows, the rest as is."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out

    def send(self, message: object) -> None:
        # A blocking write: when the console reads slowly the tail waits (nothing is lost).
        self.out.write(frame(message))
        self.out.flush()

    def __call__(self, event: ev.SourceEvent) -> None:
        if isinstance(event, ev.Records) and event.history:
            self.send(("history", encode(event.records)))  # one block: it is placed as a whole
        elif isinstance(event, ev.Records):
            records = event.records
            for i in range(0, len(records), CHUNK):
                self.send(("batch", encode(records[i:i + CHUNK])))
        elif isinstance(event, ev.Found):
            self.send(("found", event.token, encode(event.records), event.error))
        else:
            self.send(event)


def receive(message: Any, source: str) -> ev.SourceEvent:
    """A message the child wrote, as the event it stands for."""
    if isinstance(message, tuple) and message and message[0] in ("batch", "history"):
        return ev.Records(source, decode(message[1]), history=message[0] == "history")
    if isinstance(message, tuple) and message and message[0] == "found":
        return ev.Found(source, message[1], decode(message[2]), message[3])
    return message  # type: ignore[no-any-return] - the child only writes events otherwise


def _watch_parent(stdin: BinaryIO, mailbox: ev.Mailbox) -> None:
    """The console's commands into `mailbox`; at the end of stdin (the console is gone), exit."""
    try:
        while True:
            mailbox.put(read_frame(stdin))
    except EOFError:
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
    mailbox = ev.Mailbox()
    threading.Thread(target=_watch_parent, args=(stdin, mailbox), daemon=True).start()
    post = PipePost(out)
    try:
        matcher = catalog_matcher(config.playbooks, config.engine) if config.matcher else None
        asyncio.run(follow(post, config.options, matcher, config.specs, config.since_ms,
                           config.retry_every, config.stats_every, source=config.source, mailbox=mailbox))
    except BrokenPipeError:
        pass
    except BaseException as exc:  # noqa: BLE001 - told to the console, which restarts us
        try:
            post(ev.Failed(config.source, f"log tail: {type(exc).__name__}: {exc}"))
        except OSError:
            pass
    finally:
        os._exit(0)


if __name__ == "__main__":
    main()
