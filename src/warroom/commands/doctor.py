"""`warroom doctor`: which of the reads warroom uses the current identity may make."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from warroom.aws.permissions import Permission
    from warroom.aws.session import AwsSession


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
    from warroom.aws.permissions import check, policy_document
    from warroom.aws.regions import each_region

    if args.policy:
        print(json.dumps(policy_document(), indent=2))
        return 0

    async def verdicts(session: AwsSession, first: bool) -> list[Permission]:
        return await check(session)

    found = asyncio.run(each_region(args.settings.regional(), verdicts))
    rows = [(region, p) for region, permissions in found for p in permissions]
    if args.json:
        for region, p in rows:
            print(json.dumps({"region": region, "action": p.action.name, "verdict": p.verdict, "how": p.how,
                              "purpose": p.action.purpose}))
    else:
        _print_text(rows, several=len(found) > 1)
    return 1 if any(p.verdict == "denied" for _, p in rows) else 0


def _print_text(rows: list[tuple[str, Permission]], several: bool) -> None:
    """One line per action (per region and action when `several`), then the counts."""
    from warroom.textout import Paint, use_colour

    paint = Paint(use_colour(sys.stdout))
    colour = {"allowed": "32", "denied": "1;31", "unknown": "33"}
    width = max(len(p.action.name) for _, p in rows)
    region_width = max(len(region) for region, _ in rows)
    for region, p in rows:
        where = f"{region:<{region_width}}  " if several else ""
        print(f"{where}{p.action.name:<{width}}  {paint(f'{p.verdict:<7}', colour[p.verdict])}  "
              f"{p.action.purpose}{'' if p.how in ('simulated', 'probed') else f'  ({p.how})'}")
    counts = {v: sum(p.verdict == v for _, p in rows) for v in ("allowed", "denied", "unknown")}
    how = "simulated by IAM" if rows[0][1].how == "simulated" else "probed"
    print(f"{counts['allowed']} allowed, {counts['denied']} denied, {counts['unknown']} unknown ({how})")
    if counts["denied"]:
        print("warroom keeps working without a denied read and says which view it affects; "
              "`warroom doctor --policy` prints a policy granting them all", file=sys.stderr)
