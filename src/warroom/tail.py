"""The engine behind `warroom tail`: a LogTail printed as text lines or JSON objects."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from datetime import datetime, timezone
from typing import IO

from warroom.errors import UserError
from warroom.incident.records import Record
from warroom.redact import may_hold_secrets, redact, redact_value
from warroom.textout import Paint, escape_c1, highlight, inert, use_colour

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
# textout.dumps, with one encoder for every line (json.dumps builds one per call).
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def parse_since(text: str, now_ms: int | None = None) -> int:
    """`10m`, `2h30m`, `1d`, or an ISO 8601 time (UTC unless it says otherwise) -> epoch ms."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = text.strip().lower()
    if value and _DURATION.sub("", value).strip() == "":
        seconds = sum(float(n) * _UNITS[u] for n, u in _DURATION.findall(value))
        return now_ms - int(seconds * 1000)
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"--since {text!r}: expected a duration such as 30s, 10m, 2h, 1d, "
                        "or an ISO time such as 2024-05-01T10:00:00Z") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return int(when.timestamp() * 1000)


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
        obj["matches"] = redact_value(obj["matches"])
        return escape_c1(_ENCODE(obj)) + "\n"


def _say(text: str) -> None:
    print(f"warroom: {text}", file=sys.stderr, flush=True)


async def _tail(args: argparse.Namespace) -> int:
    from warroom.aws.logtail import LogTail, TailOptions
    from warroom.aws.session import AwsOptions
    from warroom.commands.common import catalog
    from warroom.playbook.matcher import Matcher

    follow = not args.no_follow
    since = parse_since(args.since) if args.since else (None if follow else parse_since("5m"))
    options = TailOptions(since_ms=since, follow=follow, filter_pattern=args.filter_pattern or None)
    if args.poll_interval is not None:
        options.poll_interval = args.poll_interval
    for name in ("rediscover_every", "overlap", "late_window"):
        if getattr(args, name, None) is not None:
            setattr(options, name, getattr(args, name))
    matcher = Matcher(catalog(args))
    printer = TailPrinter(sys.stdout, args.json)
    tail = LogTail(AwsOptions.from_args(args), args.groups, matcher, options)
    tail.on_new_group = lambda name: _say(f"following new log group {name}")
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
        await tail.aclose()
        if getattr(args, "stats", False):
            _say("stats " + json.dumps({**vars(tail.reads), "pacer": vars(tail.pacer.stats)}))
    return 0


def run_tail(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_tail(args))
    except KeyboardInterrupt:
        # Ctrl-C is how a follow ends: not an error.
        return 0
