"""`warroom doctor`: which of the reads warroom uses the current identity may make."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from warroom.aws.permissions import Permission


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "doctor", help="check the AWS read permissions the console needs",
        description="List the read actions warroom uses and, for the current identity, which are "
                    "allowed, denied or unknown (IAM's policy simulator where the identity may use "
                    "it, otherwise one harmless read each). Exit 0 if none is denied, 1 if some "
                    "are, 2 on error.")
    parser.add_argument("--json", action="store_true", help="one JSON object per action")
    parser.add_argument("--policy", action="store_true",
                        help="print an IAM policy granting exactly these reads, and exit")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from warroom.aws.permissions import policy_document

    if args.policy:
        print(json.dumps(policy_document(), indent=2))
        return 0
    from warroom.aws.session import AwsOptions

    permissions = asyncio.run(_check(AwsOptions.from_args(args)))
    if args.json:
        for p in permissions:
            print(json.dumps({"action": p.action.name, "verdict": p.verdict, "how": p.how,
                              "purpose": p.action.purpose}))
    else:
        _print_text(permissions)
    return 1 if any(p.verdict == "denied" for p in permissions) else 0


async def _check(options: object) -> list[Permission]:
    from warroom.aws.health import preflight
    from warroom.aws.permissions import check
    from warroom.aws.session import AwsSession

    await preflight(options)  # type: ignore[arg-type]
    async with AwsSession(options) as session:  # type: ignore[arg-type]
        return await check(session)


def _print_text(permissions: list[Permission]) -> None:
    from warroom.textout import Paint, use_colour

    paint = Paint(use_colour(sys.stdout))
    colour = {"allowed": "32", "denied": "1;31", "unknown": "33"}
    width = max(len(p.action.name) for p in permissions)
    for p in permissions:
        print(f"{p.action.name:<{width}}  {paint(f'{p.verdict:<7}', colour[p.verdict])}  "
              f"{p.action.purpose}{'' if p.how in ('simulated', 'probed') else f'  ({p.how})'}")
    counts = {v: sum(p.verdict == v for p in permissions) for v in ("allowed", "denied", "unknown")}
    how = "simulated by IAM" if permissions and permissions[0].how == "simulated" else "probed"
    print(f"{counts['allowed']} allowed, {counts['denied']} denied, {counts['unknown']} unknown ({how})")
    if counts["denied"]:
        print("warroom keeps working without a denied read and says which view it affects; "
              "`warroom doctor --policy` prints a policy granting them all", file=sys.stderr)
