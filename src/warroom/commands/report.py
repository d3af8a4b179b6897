"""`warroom report`: the incident timeline from the audit trail, as Markdown."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from warroom.timespec import HELP

if TYPE_CHECKING:
    from warroom.incident.changes import Change


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "report", help="the incident timeline (findings, steps, outcomes) as Markdown",
        description="Render the audit trail as a Markdown timeline for the postmortem: findings "
                    "seen, steps taken and their outcomes.")
    parser.add_argument("--since", default="24h", metavar="WHEN",
                        help=f"how far back: {HELP}, or 'all' (default 24h)")
    # Also accepted after the subcommand; the global --audit-log works too.
    parser.add_argument("--audit-log", dest="report_audit_log", metavar="PATH",
                        help="audit trail to read (default: the XDG state dir's audit.jsonl)")
    parser.add_argument("--no-changes", dest="changes", action="store_false",
                        help="do not read the changes made before the first symptom from AWS")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from warroom.incident import audit, timeline
    from warroom.timespec import parse_since

    path = audit.resolve_path(args.report_audit_log or args.settings.audit_log)
    since = None if args.since.strip().lower() == "all" else parse_since(args.since)
    records = list(audit.read(path, since))
    first = timeline.first_symptom(records)
    resources = sorted({str(r["resource"]) for r in records if r.get("kind") == "finding" and r.get("resource")})
    changes = _changes_before(args, first, resources) if args.changes and first is not None else []
    for line in timeline.render(records, str(path), since, changes):
        print(line)
    return 0


def _changes_before(args: argparse.Namespace, first: float, resources: list[str]) -> list[Change]:
    """Changes to the findings' resources and what they depend on, in the window before the first symptom.

    When they cannot be read (no AWS at hand), a warning and the report without them.
    """
    import asyncio
    import sys

    from warroom.commands.changes import collect_changes, in_order, warnings
    from warroom.errors import UserError
    from warroom.incident.changes import WINDOW_S
    from warroom.textout import inert

    try:
        found = asyncio.run(collect_changes(args.settings.regional(), first - WINDOW_S, first, resources))
    except UserError as exc:
        print(f"warroom: warning: changes not included: {inert(str(exc))}", file=sys.stderr)
        return []
    for warning in warnings(found):
        print(f"warroom: warning: {inert(warning)}", file=sys.stderr)
    return [change for _, change in in_order(found)]
