"""`warroom check`: discovery, probes, metric symptoms and deploy events, once."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from warroom.aws.health import CheckResult
    from warroom.aws.scope import Scope
    from warroom.playbook.catalog import Catalog

MAX_PER_GROUP = 5  # findings shown per (playbook, resource) in text; --json shows all


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "check", help="look for known problems in the AWS resources once",
        description="Discover the stack's resources, run the playbooks' state probes and metric "
                    "thresholds, read alarms and recent CloudFormation events and failed CodeBuild "
                    "logs, and print what is wrong. Exit 0 if nothing was found, 1 if something "
                    "was, 2 on error.")
    parser.add_argument("--json", action="store_true", help="one JSON object per finding")
    add_scope_options(parser)
    parser.set_defaults(func=run)


def add_scope_options(parser: argparse.ArgumentParser) -> None:
    """--prefix, --stack, --tag: the scope's criteria; a resource matching any is in scope."""
    parser.add_argument("--prefix", action="append", default=[], metavar="P",
                        help="resources whose name starts with P (repeatable)")
    parser.add_argument("--stack", action="append", default=[], metavar="NAME",
                        help="the resources of CloudFormation stack NAME, nested stacks included (repeatable)")
    parser.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                        help="resources tagged KEY=VALUE (repeatable)")


def scope_of(args: argparse.Namespace) -> Scope:
    from warroom.aws.scope import Scope, parse_tag

    return Scope(prefixes=tuple(getattr(args, "prefix", []) or ()),
                 stacks=tuple(getattr(args, "stack", []) or ()),
                 tags=tuple(parse_tag(t) for t in getattr(args, "tag", []) or ()))


def run(args: argparse.Namespace) -> int:
    from warroom.aws.session import AwsOptions
    from warroom.commands.common import catalog as load

    options = AwsOptions.from_args(args)
    catalog = load(args)
    result = asyncio.run(_check(options, catalog, scope_of(args)))
    for warning in result.warnings:
        from warroom.textout import inert

        print(f"warroom: warning: {inert(warning)}", file=sys.stderr)
    if args.json:
        print_json(result, sys.stdout)
    else:
        print_text(result, catalog, sys.stdout)
    return 1 if result.findings else 0


async def _check(options: object, catalog: Catalog, scope: Scope) -> CheckResult:
    from warroom.aws.health import Checker, preflight
    from warroom.aws.session import AwsSession

    await preflight(options)  # type: ignore[arg-type]
    async with AwsSession(options) as session:  # type: ignore[arg-type]
        return await Checker(session, catalog, scope=scope).run_once()


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


def print_text(result: CheckResult, catalog: Catalog, out: IO[str]) -> None:
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
        shown: dict[tuple[str, str], int] = {}
        for finding in findings:
            key = (finding.resource_kind, finding.resource)
            shown[key] = shown.get(key, 0) + 1
            if shown[key] > MAX_PER_GROUP:
                continue
            subject = f"{finding.resource_kind} {finding.resource}".strip()
            out.write(f"  {paint.dim(_clock(finding.time))}  {finding.kind:<6}  {inert(subject)}\n"
                      f"      {inert(redact(finding.evidence))}\n")
        for (kind, name), count in shown.items():
            if count > MAX_PER_GROUP:
                out.write(f"      … and {count - MAX_PER_GROUP} more on {inert(name)} (see --json)\n")
        out.write("\n")
    scope = f"{_count(len(result.resources), 'resource')} of {_count(len({r.kind for r in result.resources}), 'kind')}"
    if result.findings:
        out.write(f"{_count(len(result.findings), 'finding')} from {_count(len(groups), 'playbook')} "
                  f"on {scope}\n")
    else:
        out.write(f"no problems found on {scope}\n")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"
