"""How long the change timeline takes on the seeded demo world, and what it costs in LookupEvents.

LookupEvents is 2 requests/s per account and region, so the figure that matters is the
number of paced calls; the seconds follow from it. Prints one line per query.
"""

from __future__ import annotations

import asyncio
import os
import time

from warroom.aws.changes import collect, dependencies, pacer
from warroom.aws.session import AwsOptions, AwsSession
from warroom.demo import world as w
from warroom.demo.server import OFFLINE_ENV, MotoServer


async def measure(endpoint: str) -> None:
    async with AwsSession(AwsOptions(endpoint_url=endpoint, region="us-east-1")) as session:
        scopes = {"everything": [], w.AGENT_PERSONA: [w.AGENT_PERSONA, *await dependencies(session, w.AGENT_PERSONA)],
                  w.POLLER: [w.POLLER, *await dependencies(session, w.POLLER)]}
        for label, resources in scopes.items():
            pace = pacer()
            began = time.perf_counter()
            found = await collect(session, time.time() - 3600, time.time(), resources, pace)
            took = time.perf_counter() - began
            print(f"{label:<26} {len(found.changes):>4} changes  {took:5.2f} s  "
                  f"LookupEvents {pace.stats.by_api.get('LookupEvents', 0):>2} calls  "
                  f"throttled {pace.stats.throttled}  warnings {len(found.warnings)}")


def main() -> None:
    os.environ.update(OFFLINE_ENV)
    with MotoServer() as server:
        began = time.perf_counter()
        w.seed(server.endpoint)
        print(f"seeded the demo world in {time.perf_counter() - began:.1f} s")
        asyncio.run(measure(server.endpoint))


if __name__ == "__main__":
    main()
