"""`warroom check`: discovery, probes, metric symptoms and deploy events, once."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING

from warroom import timespec
from warroom.config import add_scope_options

if TYPE_CHECKING:
    from warroom.aws.health import CheckResult
    from warroom.aws.scope import Scope
    from warroom.aws.session import AwsSession
    from warroom.config import Settings
    from warroom.playbook.catalog import Catalog

MAX_PER_GROUP = 5  # findings shown per (playbook, resource) in text; --json shows all
LOGS_SINCE = "15m"

def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "check", help="look for known problems in the AWS resources once",
        description="Discover the stack's resources, run the playbooks' state probes and metric "
                    "thresholds, read alarms, recent CloudFormation events, failed CodeBuild logs "
                    "and the symptoms in the log groups since --since, and print what is wrong. Exit 0 if nothing was found, 1 if something "
                    "was, 2 on error.")
    parser.add_argument("--json", action="store_true", help="one JSON object per finding")
    parser.add_argument("--since", metavar="WHEN", default=LOGS_SINCE,
                        help=f"look for symptoms in the scope's log groups from then on: {timespec.HELP} "
                             f"(default {LOGS_SINCE})")
    add_scope_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from warroom.aws.regions import combine, each_region
    from warroom.commands.common import catalog as load
    from warroom.textout import inert

    settings: Settings = args.settings
    catalog = load(args)
    since_ms = timespec.since_ms(args.since)

    async def check(session: AwsSession, first: bool) -> CheckResult:
        return await check_once(session, catalog, settings.scope, since_ms)

    results = asyncio.run(each_region(settings.regional(), check))
    result = combine(results, catalog)
    for warning in result.warnings:
        print(f"warroom: warning: {inert(warning)}", file=sys.stderr)
    if args.json:
        print_json(result, sys.stdout)
    else:
        print_text(result, catalog, sys.stdout, regions=[region for region, _ in results])
    return 1 if result.findings else 0


async def check_once(session: AwsSession, catalog: Catalog, scope: Scope,
                     logs_since_ms: int | None = None) -> CheckResult:
    """One check (the log symptoms since `logs_since_ms`, given); credentials that expire
    during it end it with the line that says how to renew them, since what it found without
    them is not the whole story."""
    from warroom.aws.health import Checker
    from warroom.errors import UserError

    result = await Checker(session, catalog, scope=scope).run_once(logs_since_ms)
    if session.credentials.known_expired:
        raise UserError(session.credentials.state.line)
    return result


def print_json(result: CheckResult, out: IO[str]) -> None:
    from warroom.redact import redact_value
    from warroom.textout import dumps

    for finding in result.findings:
        out.write(dumps(redact_value(finding.to_json())) + "\n")


def _clock(ms: int) -> str:
    if not ms:
        return "--:--"
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone()
    today = datetime.now(tz=moment.tzinfo).date()
    return moment.strftime("%H:%M:%S" if moment.date() == today else "%Y-%m-%d %H:%M")


def print_text(result: CheckResult, catalog: Catalog, out: IO[str], regions: Sequence[str] = ()) -> None:
    """Findings by playbook, then a summary; each subject names its region when `regions` are several."""
    from warroom.redact import redact
    from warroom.textout import Paint, inert, use_colour

    paint = Paint(use_colour(out))
    groups: dict[str, list] = {}
    for finding in result.findings:
        groups.setdefault(finding.playbook, []).append(finding)
    for pid, findings in groups.items():
        playbook = catalog.get(pid)
        if playbook is not None:
            out.write(f"{paint.id(pid)}  {inert(playbook.title)}  [{playbook.severity}]\n")
        else:
            out.write(f"{paint.id('(no playbook)')}  alarms no playbook covers\n")
        shown: dict[tuple[str, str, str], int] = {}
        for finding in findings:
            key = (finding.region, finding.resource_kind, finding.resource)
            shown[key] = shown.get(key, 0) + 1
            if shown[key] > MAX_PER_GROUP:
                continue
            where = f"{finding.region} " if len(regions) > 1 else ""
            subject = f"{where}{finding.resource_kind} {finding.resource}".strip()
            out.write(f"  {paint.dim(_clock(finding.time))}  {finding.kind:<6}  {inert(subject)}\n"
                      f"      {inert(redact(finding.evidence))}\n")
        for (_, _, name), count in shown.items():
            if count > MAX_PER_GROUP:
                out.write(f"      … and {count - MAX_PER_GROUP} more on {inert(name)} (see --json)\n")
        out.write("\n")
    scope = f"{_count(len(result.resources), 'resource')} of {_count(len({r.kind for r in result.resources}), 'kind')}"
    if len(regions) > 1:
        scope += f" in {_count(len(regions), 'region')} ({', '.join(regions)})"
    if result.findings:
        out.write(f"{_count(len(result.findings), 'finding')} from {_count(len(groups), 'playbook')} "
                  f"on {scope}\n")
    else:
        out.write(f"no problems found on {scope}\n")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"
