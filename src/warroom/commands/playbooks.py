"""`warroom playbooks list|show|validate`."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from warroom.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("playbooks", help="list, show and validate playbooks")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="one line per playbook").set_defaults(func=run_list)
    show = actions.add_parser("show", help="a playbook in full")
    show.add_argument("id")
    show.set_defaults(func=run_show)
    validate = actions.add_parser(
        "validate", help="check playbooks (all effective ones, or the given files/dirs)")
    validate.add_argument("paths", nargs="*", metavar="PATH")
    validate.set_defaults(func=run_validate)


def run_list(args: argparse.Namespace) -> int:
    from warroom.commands.common import catalog

    books = sorted(catalog(args), key=lambda p: (p.service, p.id))
    width = max((len(p.id) for p in books), default=10)
    for p in books:
        print(f"{p.id:<{width}}  {p.service:<14} {p.severity:<8} {p.title}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from warroom.commands.common import catalog
    from warroom.playbook.render import describe

    playbook = catalog(args).get(args.id)
    if playbook is None:
        raise UserError(f"no playbook with id '{args.id}' (see `warroom playbooks list`)")
    for line in describe(playbook):
        indent = " " * (len(line) - len(line.lstrip()))
        print(textwrap.fill(line.strip(), 100, initial_indent=indent, subsequent_indent=indent + "  "))
    return 0


def run_validate(args: argparse.Namespace) -> int:
    from warroom.aws.service_model import check_call
    from warroom.playbook.catalog import builtin_dir, load_catalog, load_layer, user_dirs

    if args.paths:
        result = load_layer([Path(p) for p in args.paths], check_call)
    else:
        result = load_catalog(args.settings.playbook_dirs, check_call)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if result.problems:
        print(f"{len(result.problems)} problem(s) in playbooks", file=sys.stderr)
        return 2
    where = ", ".join(str(p) for p in (args.paths or [builtin_dir(), *user_dirs(args.settings.playbook_dirs)]))
    print(f"{len(result)} playbooks valid ({where})")
    return 0
