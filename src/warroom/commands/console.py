"""`warroom console` (and `warroom` with no command): the live incident console."""

from __future__ import annotations

import argparse

from warroom.errors import UserError

BUILT = True  # `warroom demo` opens the console instead of falling back to `tail`


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "console", help="open the live console on the account (the default command)",
        description="Resources and their health, live logs with known symptoms highlighted, "
                    "and the playbook for each finding. Press ? inside for the keys.")
    parser.add_argument("--group", "-g", metavar="SPEC", action="append", default=[],
                        help="log groups to follow: name, prefix or glob (repeatable; default all)")
    parser.add_argument("--prefix", metavar="P", action="append", default=[],
                        help="only resources whose names start with P (repeatable)")
    parser.add_argument("--since", metavar="AGE", default="10m",
                        help="show log lines from this far back at start (e.g. 30s, 10m, 1h; default 10m)")
    parser.add_argument("--buffer", metavar="N", type=int, default=100_000,
                        help="log lines kept in memory; the oldest go first (default 100000)")
    parser.set_defaults(func=run)


def parse_age(text: str) -> int:
    """`90s`, `10m`, `1h`, `2d` -> milliseconds; UserError otherwise."""
    units = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
    text = text.strip().lower()
    number, unit = (text[:-1], text[-1]) if text[-1:] in units else (text, "m")
    try:
        value = float(number)
    except ValueError:
        raise UserError(f"--since: '{text}' is not an age like 30s, 10m or 1h") from None
    if value < 0:
        raise UserError(f"--since: '{text}' is negative")
    return int(value * units[unit])


def run(args: argparse.Namespace) -> int:
    import asyncio
    import time

    from warroom.aws.health import preflight
    from warroom.aws.session import AwsOptions, AwsSession
    from warroom.commands.common import catalog as load_catalog
    from warroom.incident.store import IncidentStore
    from warroom.playbook.matcher import Matcher
    from warroom.tui.app import ConsoleApp
    from warroom.tui.feeds import check_feed, in_thread, tail_feed
    from warroom.tui.statusbar import Target

    since = parse_age(getattr(args, "since", "10m") or "10m")
    if getattr(args, "buffer", 100_000) < 100:
        raise UserError("--buffer: keep at least 100 lines")
    options = AwsOptions.from_args(args)
    # Fail before the screen is taken over: no credentials, no region, unreachable endpoint.
    identity = asyncio.run(preflight(options))
    session = AwsSession(options)
    region = session.region or ""
    catalog = load_catalog(args)
    matcher = Matcher(catalog)
    store = IncidentStore(catalog, capacity=getattr(args, "buffer", 100_000))
    since_ms = int(time.time() * 1000) - since
    groups = list(getattr(args, "group", []) or [])
    prefixes = list(getattr(args, "prefix", []) or [])

    async def tail(s: IncidentStore) -> None:
        await tail_feed(s, session, matcher, groups or [*prefixes] or [""], since_ms)

    async def check(s: IncidentStore) -> None:
        await check_feed(s, session, catalog, prefixes)

    target = Target(region=region, account=identity.get("Account", ""),
                    endpoint=options.endpoint_url or "",
                    read_only=bool(getattr(args, "read_only", False)))
    app = ConsoleApp(store, target, session=session, feeds=[in_thread(tail, "warroom-tail"), check],
                     fix_hook=_fix_hook(getattr(args, "audit_log", None)))
    app.run()
    return 0


def _fix_hook(audit_log: str | None = None):  # type: ignore[no-untyped-def]
    """The fix wizard's entry point once it exists (issue 6), else None."""
    import functools

    try:
        from warroom.tui.wizard import start_fix
    except ImportError:
        return None
    return functools.partial(start_fix, audit_log=audit_log)
