"""The `warroom` command: global options and subcommand dispatch."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from warroom import __version__
from warroom.errors import UserError

# Subcommand modules under warroom.commands; each has register(subparsers) and keeps
# heavy imports inside its run function so that `warroom scan` starts fast.
COMMANDS = ("scan", "playbooks", "tail", "check", "doctor", "demo", "fix", "report", "console")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warroom",
        description="Incident console for AWS serverless stacks. Run with no command to open "
                    "the console on your AWS account; `warroom demo` opens it on a simulated one.",
    )
    parser.add_argument("--version", action="version", version=f"warroom {__version__}")
    aws = parser.add_argument_group("AWS")
    aws.add_argument("--profile", help="AWS profile (default: AWS_PROFILE or the default chain)")
    aws.add_argument("--region", help="AWS region (default: AWS_REGION / AWS_DEFAULT_REGION / profile)")
    aws.add_argument("--endpoint-url", metavar="URL",
                     help="send every AWS call to this endpoint (default: AWS_ENDPOINT_URL)")
    parser.add_argument("--playbooks", metavar="DIR", action="append", default=[],
                        help="add or override playbooks from DIR (repeatable; also WARROOM_PLAYBOOKS)")
    parser.add_argument("--read-only", action="store_true", default=None,
                        help="refuse every step that would change AWS or run a command")
    parser.add_argument("--audit-log", metavar="PATH", help="audit trail file (JSONL)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"warroom.commands.{name}")
        module.register(sub)
    return parser


# Global options, with whether they take a value; accepted before or after the command.
GLOBAL_OPTIONS = {"--profile": True, "--region": True, "--endpoint-url": True,
                  "--playbooks": True, "--audit-log": True, "--read-only": False}


def hoist_global_options(argv: Sequence[str]) -> list[str]:
    """Move global options written after the subcommand to the front, where argparse wants them."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        name = token.split("=", 1)[0]
        if token == "--":
            rest.extend(argv[i:])
            break
        if name in GLOBAL_OPTIONS:
            takes_value = GLOBAL_OPTIONS[name] and "=" not in token
            front.extend(argv[i:i + 2] if takes_value else [token])
            i += 2 if takes_value else 1
            continue
        rest.append(token)
        i += 1
    return front + rest


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = hoist_global_options(list(argv if argv is not None else sys.argv[1:]))
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args([*argv, "console"])
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"warroom: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Output piped into `head` and friends: stop quietly, as grep does.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
