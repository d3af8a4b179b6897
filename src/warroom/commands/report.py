"""`warroom report`: the incident timeline from the audit trail, as Markdown."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "report", help="the incident timeline (findings, steps, outcomes) as Markdown",
        description="Render the audit trail as a Markdown timeline for the postmortem: findings "
                    "seen, steps taken and their outcomes.")
    parser.add_argument("--since", default="24h", metavar="WHEN",
                        help="how far back: 2h, 30m, 1d, an ISO date/time, or 'all' (default 24h)")
    # Also accepted after the subcommand; the global --audit-log works too.
    parser.add_argument("--audit-log", dest="report_audit_log", metavar="PATH",
                        help="audit trail to read (default: the XDG state dir's audit.jsonl)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import time

    from warroom.errors import UserError
    from warroom.incident import audit, timeline

    path = audit.resolve_path(args.report_audit_log or args.audit_log)
    try:
        since = timeline.parse_since(args.since, time.time())
    except ValueError as exc:
        raise UserError(f"bad --since: {exc}") from None
    records = list(audit.read(path, since))
    for line in timeline.render(records, str(path), since):
        print(line)
    return 0
