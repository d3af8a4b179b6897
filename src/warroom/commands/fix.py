"""`warroom fix PLAYBOOK`: walk a playbook's steps in line mode (plain prompts on stdin).

Exit status: 0 when every fix step is done or skipped by choice (a dry run: every plan is
valid), 1 when a step failed, was refused (read-only) or the run was aborted, 2 on bad input.

`--yes` answers y/N confirms and accepts defaults. It confirms a destructive step only when
every value in the name to type (its `confirm_name`, e.g. `{lock_id}`) was given on the
command line with `--param` or `--resource`; otherwise the name is still asked on stdin.
"""

from __future__ import annotations

import argparse
import re
import sys


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "fix", help="walk a playbook's fix steps with prompts (line mode)",
        description="Run a playbook's diagnose steps, then each fix step after a confirm. "
                    "Exit 0 when every fix step is done or skipped by choice, 1 when one failed, "
                    "was refused or the run was aborted, 2 on bad input.")
    parser.add_argument("playbook", metavar="PLAYBOOK", help="playbook id (see `warroom playbooks list`)")
    parser.add_argument("--param", metavar="NAME=VALUE", action="append", default=[],
                        help="a parameter or input value (repeatable)")
    parser.add_argument("--resource", metavar="NAME",
                        help="the resource the playbook acts on (e.g. the function name)")
    parser.add_argument("--yes", "-y", action="store_true",
                        help="answer yes to y/N confirms and accept defaults; destructive steps "
                             "still need their name given with --param/--resource")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the calls and AWS CLI equivalents without making them")
    parser.set_defaults(func=run)


def parse_params(items: list[str], known: set[str]) -> dict[str, str]:
    """`--param k=v` pairs; an unknown name or a missing `=` is a UserError."""
    from warroom.errors import UserError

    values: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise UserError(f"bad --param '{item}': expected NAME=VALUE")
        if name not in known:
            raise UserError(f"bad --param '{name}': not a parameter of this playbook "
                            f"(known: {', '.join(sorted(known))})")
        values[name] = value
    return values


def known_names(playbook) -> set[str]:  # type: ignore[no-untyped-def]
    """Every name a step can use: params, inputs, captures, symptom groups, context."""
    from warroom.runner.inputs import CWD_INPUT

    names = {p.name for p in playbook.params} | {c.name for c in playbook.context}
    for symptom in playbook.text_symptoms:
        names.update(symptom.groups)
    for step in (*playbook.diagnose, *playbook.fix):
        names.update(i.name for i in step.inputs)
        names.update(step.capture)
        if step.kind == "shell":
            names.add(CWD_INPUT)
    return names


def run(args: argparse.Namespace) -> int:
    import asyncio

    from warroom.aws.session import AwsSession
    from warroom.commands.common import catalog
    from warroom.commands.line_prompter import LinePrompter
    from warroom.errors import UserError
    from warroom.incident.audit import AuditLog
    from warroom.playbook.types import misfit
    from warroom.runner import Runner
    from warroom.runner.inputs import BadInput, coerce
    from warroom.runner.plans import unfilled
    from warroom.textout import inert

    playbook = catalog(args).get(args.playbook)
    if playbook is None:
        raise UserError(f"no playbook with id '{inert(args.playbook)}' (see `warroom playbooks list`)")
    values: dict[str, object] = dict(parse_params(args.param, known_names(playbook)))
    resource_param = next((p for p in playbook.params if p.resource), None)
    if args.resource and resource_param is None:
        raise UserError(f"bad --resource: playbook '{playbook.id}' takes no resource; use --param")
    for param in playbook.params:
        given = values.get(param.name, args.resource if param is resource_param else None)
        problem = misfit(given, param.type, param.pattern) if given is not None else None
        if problem:
            source = "--param" if param.name in values else "--resource"
            raise UserError(f"bad {source} {param.name}: {problem}")
    for step in (*playbook.diagnose, *playbook.fix):
        for item in step.inputs:
            if item.name in values:
                try:
                    values[item.name] = coerce(item, values[item.name])
                except BadInput as exc:
                    raise UserError(f"bad --param {item.name}: {exc}") from None
    explicit = set(values) | ({resource_param.name} if args.resource and resource_param else set())
    if args.resource and resource_param is not None:
        values.setdefault(resource_param.name, args.resource)
    if args.yes or args.dry_run:  # nobody to ask: name what to give instead of guessing
        missing = [p for p in unfilled(playbook, values) if p.default is None]
        if missing:
            raise UserError(f"{playbook.id} needs " + ", ".join(
                f"{p.name} ({inert(p.description)})" if p.description else p.name for p in missing)
                + ": give " + " ".join(f"--param {p.name}=VALUE" for p in missing))
    read_only = args.settings.read_only
    prompter = LinePrompter(yes=args.yes, explicit=explicit)

    async def main() -> int:
        async with AwsSession(args.settings.aws()) as session:
            runner = Runner(playbook, prompter, session, values=values, explicit=explicit,
                            resource=args.resource, read_only=read_only, dry_run=args.dry_run,
                            audit=None if args.dry_run else AuditLog(args.settings.audit_log))
            prompter.say(f"{playbook.id}: {inert(playbook.title)}"
                         + ("   [DRY RUN: nothing is called]" if args.dry_run else "")
                         + ("   [READ-ONLY]" if read_only else ""))
            result = await runner.run()
        prompter.say()
        if args.dry_run:
            bad = [r for r in (*result.diagnose, *result.fix) if r.plan.problems]
            prompter.say(f"dry run: {len(result.fix)} fix step(s) planned, "
                         f"{len(bad)} with problems" if bad else
                         f"dry run: {len(result.fix)} fix step(s) planned, nothing called")
            return 1 if bad else 0
        prompter.say("Summary:")
        for r in result.fix:
            why = f": {inert(r.error.message)}" if r.error else ""
            prompter.say(f"  fix {r.plan.number}. {inert(r.plan.title)}: {r.status}{why}")
        if runner.audit is not None:
            prompter.say(f"audit trail: {runner.audit.path}")
        return 0 if result.ok else 1

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        # Ctrl-C at a prompt or while a step runs: the runner has written the abort to the
        # audit, and a running shell step's process group is gone with it.
        print("\ninterrupted: the remaining steps were not run", file=sys.stderr, flush=True)
        return 130
