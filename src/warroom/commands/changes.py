"""`warroom changes`: what changed in the account, from CloudTrail and the services' version records."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

from warroom.timespec import HELP

if TYPE_CHECKING:
    from warroom.aws.changes import Timeline
    from warroom.aws.session import AwsOptions, AwsSession
    from warroom.incident.changes import Change


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "changes", help="what changed, when and by whom (CloudTrail, deploys, versions)",
        description="The change timeline: CloudTrail write events, CloudFormation stack events, "
                    "CodeBuild builds, Lambda versions, secret versions (metadata only), SSM "
                    "parameter history and IAM policy versions, oldest first.")
    parser.add_argument("--json", action="store_true", help="one JSON object per change")
    parser.add_argument("--since", default="2h", metavar="WHEN",
                        help=f"how far back: {HELP} (default 2h)")
    parser.add_argument("--resource", action="append", default=[], metavar="NAME",
                        help="only changes on NAME and what it depends on (repeatable)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import time

    from warroom.textout import inert
    from warroom.timespec import parse_since

    now = time.time()
    since = parse_since(args.since, now)
    found = asyncio.run(collect_changes(args.settings.regional(), since, now, args.resource))
    for warning in warnings(found):
        print(f"warroom: warning: {inert(warning)}", file=sys.stderr)
    (print_json if args.json else print_text)(found, sys.stdout)
    return 0


async def collect_changes(options: Sequence[AwsOptions], since: float, until: float,
                          resources: Sequence[str]) -> list[Timeline]:
    """Each region's timeline of `resources` and their dependencies (everything when empty)."""
    from warroom.aws.changes import collect, dependencies
    from warroom.aws.regions import each_region

    async def one(session: AwsSession, first: bool) -> Timeline:
        names = list(resources)
        for name in resources:
            names += [d for d in await dependencies(session, name) if d not in names]
        return await collect(session, since, until, names, global_sources=first)

    return [timeline for _, timeline in await each_region(options, one)]


def warnings(timelines: Sequence[Timeline]) -> list[str]:
    """What could not be read, naming the region when there are several."""
    return [f"{t.region}: {w}" if len(timelines) > 1 else w for t in timelines for w in t.warnings]


def in_order(timelines: Sequence[Timeline]) -> list[tuple[str, Change]]:
    """(region, change) across the regions, oldest first."""
    return sorted(((t.region, c) for t in timelines for c in t.changes), key=lambda pair: pair[1].time)


def print_json(timelines: Sequence[Timeline], out: IO[str]) -> None:
    from warroom.redact import redact_value
    from warroom.textout import dumps

    for region, change in in_order(timelines):
        out.write(dumps(redact_value({**change.to_json(), "region": region})) + "\n")


def print_text(timelines: Sequence[Timeline], out: IO[str]) -> None:
    from datetime import datetime

    from warroom.redact import redact
    from warroom.textout import inert

    changes = in_order(timelines)
    if not changes:
        out.write("no changes found\n")
    today = datetime.now().astimezone().date()
    for region, change in changes:
        moment = datetime.fromtimestamp(change.time).astimezone()
        clock = moment.strftime("%H:%M:%S" if moment.date() == today else "%Y-%m-%d %H:%M:%S")
        where = f" {region}" if len(timelines) > 1 else ""
        who = f" by {change.actor}" if change.actor else ""
        what = f": {change.summary}" if change.summary else ""
        resource = f" {change.resource}" if change.resource else ""  # CloudTrail names none for some calls
        out.write(inert(redact(f"{clock}{where} {change.source:<14} {change.event}{resource}{who}{what}"))
                  + "\n")
