"""`warroom console` (and `warroom` with no command): the live incident console."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from warroom.config import add_scope_options
from warroom.errors import UserError

if TYPE_CHECKING:
    from warroom.aws.session import AwsSession
    from warroom.config import Settings
    from warroom.tui.app import ConsoleApp
    from warroom.tui.source_thread import Feed
    from warroom.tui.sources import Sources
    from warroom.tui.statusbar import Target

BUILT = True  # `warroom demo` opens the console instead of falling back to `tail`


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "console", help="open the live console on the account (the default command)",
        description="Resources and their health, live logs with known symptoms highlighted, "
                    "and the playbook for each finding. Press ? inside for the keys.")
    parser.add_argument("--group", "-g", metavar="SPEC", action="append", default=[],
                        help="log groups to follow: name, prefix or glob (repeatable; default all)")
    add_scope_options(parser)
    parser.add_argument("--since", metavar="WHEN", default="10m",
                        help="show log lines from this far back at start: 90s, 15m, 2h30m, 1d or an "
                             "ISO time (default 10m)")
    parser.add_argument("--buffer", metavar="N", type=int, default=100_000,
                        help="log lines kept in memory; the oldest go first (default 100000)")
    parser.add_argument("--filter-pattern", metavar="P",
                        help="read only events matching this CloudWatch filter pattern, at the source "
                             "(symptoms outside it are not seen; :pattern changes it inside)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from warroom.aws.session import AwsSession
    from warroom.tui.app import target_of
    from warroom.tui.sources import identify

    settings: Settings = args.settings
    _check_args(args)
    # Fail before the screen is taken over: no credentials, no region, unreachable endpoint.
    identity = asyncio.run(identify(settings))
    session = AwsSession(settings.aws())
    return run_app(build(args, settings, target_of(settings, identity, session), session))


def build(args: argparse.Namespace, settings: Settings, target: Target, session: AwsSession | None,
          startup: Feed | None = None) -> ConsoleApp:
    """The console on `settings`. With `startup` (the demo's account), its sources wait for
    that source's Ready, `session` comes then, and the playbooks are loaded after the first
    frame rather than before it."""
    from warroom.incident.store import IncidentStore
    from warroom.tui.app import ConsoleApp

    def sources() -> Sources:
        return _sources(args)

    store = IncidentStore(capacity=getattr(args, "buffer", 100_000))
    made = None if startup is not None else sources()
    if made is not None:
        store.playbooks.update({p.id: p for p in made.catalog})
    app = ConsoleApp(store, target, session=session, fix_hook=_fix_hook(settings.audit_log),
                     settings=settings, sources=made, startup=startup,
                     load_sources=sources if made is None else None,
                     read_only_flag=bool(getattr(args, "read_only", False)))
    app.tails.narrow_to(getattr(args, "filter_pattern", None))  # told to each tail as it starts
    return app


def _sources(args: argparse.Namespace) -> Sources:
    """The playbooks (each broken one reported on stderr) and `--group`/`--since`."""
    from warroom import timespec
    from warroom.commands.common import catalog as load_catalog
    from warroom.tui.sources import Sources

    catalog = load_catalog(args)
    since_ms = timespec.since_ms(getattr(args, "since", None) or "10m")
    return Sources(catalog, tuple(getattr(args, "group", ()) or ()), since_ms)


def _check_args(args: argparse.Namespace) -> None:
    """What the command line says wrong, before anything is reached (AWS, the screen)."""
    from warroom import timespec

    if getattr(args, "buffer", 100_000) < 100:
        raise UserError("--buffer: keep at least 100 lines")
    timespec.since_ms(getattr(args, "since", None) or "10m")
    from warroom.aws import filterpattern

    wrong = filterpattern.problem(getattr(args, "filter_pattern", None) or "")
    if wrong:
        raise UserError(f"--filter-pattern: {wrong}")


def run_app(app: ConsoleApp) -> int:
    """Run the console until it quits; an unexpected error is one line on stderr, exit 70.

    Textual restores the terminal before `run` returns, so the line is printed on a sane one.
    """
    import sys

    from warroom.tui.crash import EXIT_INTERNAL, report

    try:
        app.run()
    except Exception as exc:  # noqa: BLE001 - anything Textual did not catch itself
        app.crash = app.crash or exc
    if app.crash is None:
        return 0
    print(report(app.crash), file=sys.stderr)
    return EXIT_INTERNAL


def _fix_hook(audit_log: str | None = None):  # type: ignore[no-untyped-def]
    """The fix wizard's entry point once it exists (issue 6), else None."""
    import functools

    try:
        from warroom.tui.wizard import start_fix
    except ImportError:
        return None
    return functools.partial(start_fix, audit_log=audit_log)
