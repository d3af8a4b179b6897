"""The `warroom` command: global options and subcommand dispatch."""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence

from warroom import __version__, config
from warroom.errors import UserError

# Subcommand modules under warroom.commands; each has register(subparsers) and keeps
# heavy imports inside its run function so that `warroom scan` starts fast.
COMMANDS = ("scan", "playbooks", "tail", "check", "doctor", "demo", "fix", "report", "changes", "console")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; for a known `command` only its own subparser, since importing every
    command module (asyncio and more) would cost `warroom scan` more than its work."""
    parser = argparse.ArgumentParser(
        prog="warroom",
        description="Incident console for AWS serverless stacks. Run with no command to open "
                    "the console on your AWS account; `warroom demo` opens it on a simulated one.",
    )
    parser.add_argument("--version", action="version", version=f"warroom {__version__}")
    aws = parser.add_argument_group("AWS")
    aws.add_argument("--profile", help="AWS profile (default: AWS_PROFILE or the default chain)")
    aws.add_argument("--region", action="append", default=[], metavar="REGION[,REGION]",
                     help="AWS region, or several: us-east-1,eu-west-1 (repeatable; default: "
                          "the config file, AWS_REGION / AWS_DEFAULT_REGION, the profile's)")
    aws.add_argument("--endpoint-url", metavar="URL",
                     help="send every AWS call to this endpoint (default: AWS_ENDPOINT_URL)")
    parser.add_argument("--playbooks", metavar="DIR", action="append", default=[],
                        help="add or override playbooks from DIR (repeatable; also WARROOM_PLAYBOOKS)")
    parser.add_argument("--read-only", action="store_true", default=None,
                        help="refuse every step that would change AWS or run a command")
    parser.add_argument("--audit-log", metavar="PATH", help="audit trail file (JSONL)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in (command,) if command in COMMANDS else COMMANDS:
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


def command_in(argv: Sequence[str]) -> str | None:
    """The subcommand named in hoisted `argv`, or None (none, or help asked for first)."""
    i = 0
    while i < len(argv):
        token = argv[i]
        if not token.startswith("-"):
            return token
        if token in ("-h", "--help", "--version", "--"):
            return None
        i += 2 if GLOBAL_OPTIONS.get(token.split("=", 1)[0]) and "=" not in token else 1
    return None


def main(argv: Sequence[str] | None = None) -> int:
    if threading.current_thread() is threading.main_thread():
        # A background job of a non-interactive shell (`warroom tail ... &`, a script's child)
        # starts with SIGINT ignored, and Python keeps that: the Ctrl-C or SIGINT that stops
        # `tail` and `demo --serve` would do nothing.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    argv = hoist_global_options(list(argv if argv is not None else sys.argv[1:]))
    parser = build_parser(command_in(argv))
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args([*argv, "console"])
    try:
        args.settings = config.build(args)
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
