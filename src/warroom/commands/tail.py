"""`warroom tail`: follow CloudWatch log groups with known symptoms highlighted."""

from __future__ import annotations

import argparse

from warroom import timespec


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "tail", help="follow log groups, highlighting known symptoms",
        description="Print the events of the log groups named, as they arrive, with known "
                    "symptoms highlighted. A GROUP is an exact name or prefix "
                    "(/aws/lambda/bos-dev), a glob (/aws/lambda/kiro-*), or a bare word that "
                    "starts any part of a name (bos-dev). Groups that appear later are "
                    "followed too. Events arrive through CloudWatch Live Tail; FilterLogEvents "
                    "only backfills, within --filter-budget. Ctrl-C stops. Exit 0, or 2 on error.")
    parser.add_argument("groups", nargs="+", metavar="GROUP", help="log group name, prefix or glob")
    parser.add_argument("--json", action="store_true",
                        help='one JSON object per event: {"group", "stream", "timestamp", '
                             '"eventId", "message", "matches"}')
    parser.add_argument("--since", metavar="WHEN",
                        help=f"where to start: {timespec.HELP} (default: now; 5m with --no-follow)")
    parser.add_argument("--filter-pattern", metavar="P",
                        help="CloudWatch filter pattern, applied by the server")
    parser.add_argument("--no-follow", action="store_true",
                        help="print what is there up to now, then exit")
    parser.add_argument("--no-live-tail", action="store_true",
                        help="poll FilterLogEvents only (Live Tail is billed by the minute of session)")
    parser.add_argument("--filter-budget", type=float, default=None, metavar="N",
                        help="FilterLogEvents calls a second this tail may use, for backfill and "
                             "where Live Tail is refused (default 1, a fifth of the account's quota)")
    # Tuning for tests and benches.
    parser.add_argument("--poll-interval", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--rediscover-every", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--overlap", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--late-window", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--stats", action="store_true", help=argparse.SUPPRESS)  # read counts, at exit
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from warroom.tail import run_tail

    return run_tail(args)
