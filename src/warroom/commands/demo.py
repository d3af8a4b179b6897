"""`warroom demo`: both guides' systems, simulated mid-incident, in the console (or headless)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING

from warroom.errors import UserError

if TYPE_CHECKING:
    from warroom.demo.launcher import DemoWorld
    from warroom.tui.app import ConsoleApp

MAX_RATE = 5000.0
MAX_LATENCY_MS = 60_000
UNSTARTED = "http://127.0.0.1:9"  # the discard port: refused, never a real AWS endpoint


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "demo", help="open the console on a simulated AWS account, mid-incident (no account needed)",
        description="Starts an offline AWS (moto) on 127.0.0.1, seeds the BuildingOS and Kiro worker "
                    "stacks, simulates their traffic and incidents, and opens the console on it. "
                    "Fixes you apply change the simulated world. Everything stops when you quit.")
    parser.add_argument("--serve", action="store_true",
                        help="run the world headless; print endpoint=URL first, then run until Ctrl-C")
    parser.add_argument("--seed", type=int, default=0, help="make the run deterministic (default 0)")
    parser.add_argument("--rate", type=float, default=20.0,
                        help=f"background log events per second (default 20, up to {MAX_RATE:.0f})")
    parser.add_argument("--bare", action="store_true",
                        help="with --serve: the offline account alone, no seeded world and no simulated traffic")
    parser.add_argument("--no-quotas", action="store_true",
                        help="lift CloudWatch Logs' per-account request quotas (enforced by default)")
    parser.add_argument("--latency", type=float, default=0.0, metavar="MS",
                        help="milliseconds added to every AWS call (default 0)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    _require_demo_extra()
    rate = float(getattr(args, "rate", 20.0))
    if not 0 <= rate <= MAX_RATE:
        raise UserError(f"--rate: {rate:g} is outside 0..{MAX_RATE:.0f} events per second")
    latency = float(getattr(args, "latency", 0.0))
    if not 0 <= latency <= MAX_LATENCY_MS:
        raise UserError(f"--latency: {latency:g} is outside 0..{MAX_LATENCY_MS} milliseconds")
    bare = bool(getattr(args, "bare", False))
    if bare and not getattr(args, "serve", False):
        raise UserError("--bare: only with --serve (the console needs the seeded world)")
    if getattr(args, "endpoint_url", None) or getattr(args, "profile", None):
        raise UserError("demo runs its own offline AWS: drop --endpoint-url/--profile "
                        "(use `warroom --endpoint-url URL ...` against `warroom demo --serve`)")
    from warroom.demo.launcher import DemoWorld
    from warroom.demo.server import OFFLINE_ENV

    # Dummy credentials for everything in this process and its children: never real ones.
    os.environ.update(OFFLINE_ENV)
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(key, None)
    # SIGTERM should unwind like Ctrl-C so the children are stopped in order.
    signal.signal(signal.SIGTERM, _interrupt)
    demo = DemoWorld(seed=args.seed, rate=rate, bare=bare, latency_ms=latency,
                     quotas=not getattr(args, "no_quotas", False))
    args.region = "us-east-1"
    args.demo_world = True  # its playbooks may offer the world's names as defaults
    from warroom.commands import console

    if not args.serve and getattr(console, "BUILT", False):
        demo.spawn_server()  # it boots while the console starts
        try:
            return _console(args, demo)
        finally:
            demo.stop()
    with demo:
        if args.serve:
            return _serve(demo.endpoint)
        args.endpoint_url = demo.endpoint
        args.settings = dataclasses.replace(args.settings, profile=None, regions=(args.region,),
                                            endpoint_url=demo.endpoint)
        return _front_end(args, demo.world.log_groups if demo.world else [])


def _console(args: argparse.Namespace, demo: DemoWorld) -> int:
    from warroom.commands import console

    return console.run_app(demo_console(args, demo))


def demo_console(args: argparse.Namespace, demo: DemoWorld) -> ConsoleApp:
    """The console at once, its status bar saying the account is starting; its sources start
    on the account when `demo.bring_up` says it is up. Quitting stops the world, however far
    its start-up got."""
    from warroom.commands import console
    from warroom.demo.launcher import SOURCE, STARTING
    from warroom.demo.world import ACCOUNT
    from warroom.tui.source_thread import Feed
    from warroom.tui.statusbar import Target

    for name, default in (("group", []), ("prefix", []), ("since", "10m"), ("buffer", 100_000)):
        if not hasattr(args, name):
            setattr(args, name, default)
    # Until the account answers, nothing may reach a real endpoint: this one refuses at once.
    settings = dataclasses.replace(args.settings, profile=None, regions=(args.region,),
                                   endpoint_url=UNSTARTED)
    target = Target(region=args.region, account=ACCOUNT, read_only=settings.read_only)
    return console.build(args, settings, target, None, Feed(SOURCE, demo.bring_up, STARTING))


def _require_demo_extra() -> None:
    """The offline AWS is an extra: a bastion's install has no use for it."""
    import importlib.util

    if any(importlib.util.find_spec(name) is None for name in ("moto", "flask", "werkzeug")):
        raise UserError("the demo needs the offline AWS, which this install does not have: "
                        "pip install 'warroom[demo]'")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _serve(endpoint: str) -> int:
    from warroom.demo.server import OFFLINE_ENV

    # The world accepts any credentials; these dummy ones keep real ones out of its way.
    env = " ".join(f"{k}={v}" for k, v in {"AWS_ENDPOINT_URL": endpoint, **OFFLINE_ENV}.items()
                   if k != "AWS_DEFAULT_REGION")
    try:  # from the first line on: a SIGTERM right after `endpoint=` is a clean stop too
        print(f"endpoint={endpoint}", flush=True)
        print(f"# in another shell: export {env}\n"
              "# then: warroom check · warroom tail /aws/lambda/ · "
              "warroom fix lambda-timeout --param function=bos-dev-agent-persona · "
              "aws lambda list-functions   (Ctrl-C here stops the world)", file=sys.stderr, flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    return 0


def _front_end(args: argparse.Namespace, groups: list[str]) -> int:
    """`warroom tail` on the world, where the console is not built."""
    from warroom.commands import tail

    for name, default in (("groups", groups), ("json", False), ("since", "10m"), ("filter_pattern", None),
                          ("no_follow", False), ("poll_interval", None)):
        setattr(args, name, getattr(args, name, None) or default)
    try:
        return int(tail.run(args) or 0)
    except KeyboardInterrupt:
        return 0
