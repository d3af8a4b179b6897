"""Starts and stops the whole demo world: moto server, seeded resources, simulator process.

The server enforces CloudWatch Logs' quotas unless told not to; `bare` starts it alone.

Both children watch their stdin and exit on EOF, so whatever ends the parent (quit,
Ctrl-C, a crash, SIGKILL) ends them too; nothing is written to disk.
"""

from __future__ import annotations

import os
import subprocess
import sys
from types import TracebackType

from warroom.demo import world
from warroom.demo.server import OFFLINE_ENV, MotoServer, stop_child


class DemoWorld:
    """A running, seeded, simulated world; use as a context manager."""

    def __init__(self, seed: int = 0, rate: float = 20.0, simulate: bool = True, bare: bool = False,
                 quotas: bool = True, latency_ms: float = 0.0) -> None:
        self.seed = seed
        self.rate = rate
        self.simulate = simulate and not bare
        self.bare = bare  # the account alone: no seeded resources, no simulated traffic
        self.server = MotoServer(quotas=quotas, latency_ms=latency_ms)
        self.simulator: subprocess.Popen[str] | None = None
        self.world: world.World | None = None

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    def start(self) -> DemoWorld:
        self.server.start()
        try:
            if not self.bare:
                self.world = world.seed(self.endpoint)
            if self.simulate:
                self.simulator = subprocess.Popen(
                    [sys.executable, "-m", "warroom.demo.simulator", "--endpoint", self.endpoint,
                     "--seed", str(self.seed), "--rate", str(self.rate)],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                    env={**os.environ, **OFFLINE_ENV, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
                assert self.simulator.stdout is not None
                line = self.simulator.stdout.readline().strip()
                if line != "ready":
                    raise RuntimeError(f"demo simulator did not start (said {line!r})")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        process, self.simulator = self.simulator, None
        if process is not None:
            stop_child(process)
        self.server.stop()

    def __enter__(self) -> DemoWorld:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
