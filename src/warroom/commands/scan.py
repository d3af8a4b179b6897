"""`warroom scan`: recognise playbook symptoms in text files or standard input."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "scan", help="find known symptoms in text (files or stdin)",
        description="Print each line that shows a known symptom, with the playbook that covers "
                    "it, then a count per playbook. Exit 0 if anything matched, 1 if nothing "
                    "did, 2 on error.")
    parser.add_argument("files", nargs="*", metavar="FILE", help="files to read; '-' or none: stdin")
    parser.add_argument("--json", action="store_true", help="one JSON object per matching line")
    parser.add_argument("--explain", action="store_true",
                        help="for each matching line, every pattern that matched (playbook file:line, "
                             "priority, columns), the chosen one first, and why each other one ranks lower")
    parser.add_argument("--engine", choices=("auto", "hyperscan", "python"), default="auto",
                        help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from warroom.scan import run_scan

    return run_scan(args)
