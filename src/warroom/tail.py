"""The engine behind `warroom tail`: a LogTail printed as text lines or JSON objects."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import IO, TYPE_CHECKING

from warroom.errors import UserError
from warroom.incident.records import Record
from warroom.redact import may_hold_secrets, redact, redact_captures
from warroom.textout import Paint, escape_c1, highlight, inert, use_colour

if TYPE_CHECKING:
    from warroom.aws.credentials import CredentialState
    from warroom.aws.pacing import PacerStats

# textout.dumps, with one encoder for every line (json.dumps builds one per call).
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def short_group(name: str) -> str:
    """Lambda groups by function name, as the console shows them; others in full."""
    return name.removeprefix("/aws/lambda/")


def short_stream(name: str) -> str:
    """The distinguishing end of a long stream name (Lambda's end in an instance id)."""
    return name if len(name) <= 20 else "…" + name[-8:]


class TailPrinter:
    """Text lines (time, group stream, message with symptoms highlighted) or JSON objects."""

    def __init__(self, out: IO[str], as_json: bool) -> None:
        self.out = out
        self.as_json = as_json
        self.paint = Paint(use_colour(out))
        self._today = datetime.now().date()

    def format(self, record: Record, secrets: bool = True) -> str:
        """One event's output; `secrets=False` when its message is known to hold none."""
        # Masks keep lengths: match spans stay valid.
        if self.as_json:
            return self._json_line(record, secrets)
        message = redact(record.message) if secrets else record.message
        text = message.rstrip("\r\n")
        when = datetime.fromtimestamp(record.timestamp / 1000)
        stamp = when.strftime("%H:%M:%S.") + f"{when.microsecond // 1000:03d}"
        if when.date() != self._today:
            stamp = when.strftime("%Y-%m-%d ") + stamp
        where = f"{inert(short_group(record.group))} {inert(short_stream(record.stream))}"
        spans = [(m.start, min(m.end, len(text))) for m in record.matches[:1]]
        line = f"{self.paint.dim(stamp)} {self.paint.id(where)}  {highlight(text, spans, self.paint)}\n"
        if record.matches:
            best, others = record.matches[0], record.matches[1:]
            also = f"  (also: {', '.join(m.playbook for m in others)})" if others else ""
            line += f"  → {self.paint.hit(best.playbook)}: {inert(best.title)}{also}\n"
        return line

    def batch(self, records: list[Record]) -> None:
        """Write a batch with one write and one flush."""
        if not records:
            return
        # A secret in any one message passes the cheap checks on all of them joined, so
        # a batch that fails them has none; otherwise each message is redacted on its own.
        secrets = may_hold_secrets("\n".join([r.message for r in records]))
        self.out.write("".join(self.format(r, secrets) for r in records))
        self.out.flush()

    @staticmethod
    def _json_line(record: Record, secrets: bool) -> str:
        """The `--json` object of one event (textout.dumps, with one shared encoder)."""
        obj = record.to_json()
        if secrets:
            obj["message"] = redact(record.message)
        obj["matches"] = [{**m.to_json(), "captures": redact_captures(record.message, m.start, m.end, m.captures)}
                          for m in record.matches]
        return escape_c1(_ENCODE(obj)) + "\n"


def _say(text: str) -> None:
    print(f"warroom: {text}", file=sys.stderr, flush=True)


def _say_credentials(state: CredentialState) -> None:
    """An expiry, with how to renew; then the renewal (not each re-read that still failed)."""
    if not state.attempts:
        _say(state.line + ("; the tail goes on from where it was once they work" if state.expired else ""))


SILENT_AFTER = 2.0  # s of failed attempts before saying the endpoint stopped answering


async def _watch_endpoint(stats: PacerStats, endpoint: str, say: Callable[[str], None],
                          every: float = 0.5) -> None:
    """Say once when every call has been failing for SILENT_AFTER seconds, and once when
    the endpoint answers again."""
    silent = False
    while True:
        await asyncio.sleep(every)
        since = stats.failing_since
        if not silent and since is not None and time.monotonic() - since >= SILENT_AFTER:
            silent = True
            say(f"{endpoint} is not answering; retrying (events are not lost: they are read when it answers)")
        elif silent and since is None:
            silent = False
            say(f"{endpoint} answers again")


async def _tail(args: argparse.Namespace) -> int:
    from warroom.aws.logtail import LogTail, TailOptions
    from warroom.commands.common import catalog
    from warroom.playbook.cache import catalog_matcher
    from warroom.timespec import since_ms

    follow = not args.no_follow
    since = since_ms(args.since) if args.since else (None if follow else since_ms("5m"))
    options = TailOptions(since_ms=since, follow=follow, filter_pattern=args.filter_pattern or None)
    if getattr(args, "no_live_tail", False):
        options.live_tail = False
    if getattr(args, "filter_budget", None) is not None:
        if not 0 < args.filter_budget <= 5:
            raise UserError(f"--filter-budget: {args.filter_budget:g} is outside 0..5 calls a second "
                            "(the account's whole FilterLogEvents quota is 5)")
        options.filter_budget = args.filter_budget
    if args.poll_interval is not None:
        options.poll_interval = args.poll_interval
    for name in ("rediscover_every", "overlap", "late_window"):
        if getattr(args, name, None) is not None:
            setattr(options, name, getattr(args, name))
    matcher = catalog_matcher(catalog(args))  # compiled once per playbook content
    printer = TailPrinter(sys.stdout, args.json)
    aws = args.settings.aws()
    tail = LogTail(aws, args.groups, matcher, options)
    tail.on_new_group = lambda name: _say(f"following new log group {name}")
    tail.on_notice = _say
    tail.credentials.listen(_say_credentials)
    watcher = asyncio.create_task(_watch_endpoint(tail.pacer.stats, aws.endpoint_url or "CloudWatch Logs", _say))
    try:
        await tail.start()
        names = ", ".join(repr(s) for s in tail.unmatched)
        if tail.unmatched and not tail.groups and not follow:
            raise UserError(f"no log group matches {names} (list them with `aws logs describe-log-groups`)")
        if tail.unmatched:
            _say(f"no log group matches {names}" + (" yet; waiting for one to appear (Ctrl-C to stop)"
                                                   if follow else ""))
        async for batch in tail.batches():
            printer.batch(batch)
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        await tail.aclose()
        if getattr(args, "stats", False):
            live = vars(tail.live.stats) if tail.live is not None else None
            _say("stats " + json.dumps({**vars(tail.reads), "pacer": vars(tail.pacer.stats), "live": live}))
    return 0


def run_tail(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_tail(args))
    except KeyboardInterrupt:
        # Ctrl-C is how a follow ends: not an error.
        return 0
