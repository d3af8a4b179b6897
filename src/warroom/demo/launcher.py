"""Starts and stops the whole demo world: moto server, seeded resources, simulator process.

The server enforces CloudWatch Logs' quotas unless told not to; `bare` starts it alone.
As a context manager the world is up when `with` is entered; the console instead runs
`bring_up` as a source, so that its frame appears first and the status bar follows the
start-up (`Starting` events, then `Ready` with the endpoint, or `Failed` in one line).

Both children watch their stdin and exit on EOF, so whatever ends the parent (quit,
Ctrl-C, a crash, SIGKILL) ends them too; nothing is written to disk.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

from warroom.demo import world
from warroom.demo.server import OFFLINE_ENV, MotoServer, stop_child
from warroom.incident import source_events as ev

SOURCE = "simulated account"
STARTING = "starting the simulated AWS account (moto on 127.0.0.1)"
T = TypeVar("T")


class DemoWorld:
    """A running, seeded, simulated world; use as a context manager."""

    def __init__(self, seed: int = 0, rate: float = 20.0, simulate: bool = True, bare: bool = False,
                 quotas: bool = True, latency_ms: float = 0.0) -> None:
        self.seed = seed
        self.rate = rate
        self.simulate = simulate and not bare
        self.bare = bare  # the account alone: no seeded resources, no simulated traffic
        self.server = MotoServer(quotas=quotas, latency_ms=latency_ms, warm=not bare)
        self.simulator: subprocess.Popen[str] | None = None
        self.world: world.World | None = None
        # `stop` may come from the console's thread while `bring_up` starts a child on another.
        self._lock = threading.Lock()
        self._stopped = False

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    def start(self) -> DemoWorld:
        try:
            self.spawn_server()
            self.server.wait_ready()
            self.seed_world()
            self.start_simulator()
        except BaseException:
            self.stop()
            raise
        return self

    def spawn_server(self) -> None:
        """Start the server's process, and the simulator's, which waits to be told the
        endpoint: both boot while the caller does something else."""
        with self._lock:
            if self.server.process is None and not self._stopped:
                self.server.spawn()
            if self.simulate and self.simulator is None and not self._stopped:
                self.simulator = subprocess.Popen(
                    [sys.executable, "-m", "warroom.demo.simulator", "--endpoint", "-",
                     "--seed", str(self.seed), "--rate", str(self.rate)],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                    env={**os.environ, **OFFLINE_ENV, "PYTHONUNBUFFERED": "1"}, start_new_session=True)

    def seed_world(self, changes: bool = True) -> None:
        if not self.bare:
            self.world = world.seed(self.endpoint, changes=changes)

    def start_simulator(self) -> None:
        """Tell the waiting simulator where the seeded account is; return once it runs."""
        with self._lock:
            simulator = self.simulator
            if simulator is None or self._stopped:
                return
        assert simulator.stdin is not None and simulator.stdout is not None
        simulator.stdin.write(self.endpoint + "\n")
        simulator.stdin.flush()
        line = simulator.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"demo simulator did not start (said {line!r})")

    async def bring_up(self, post: Callable[[ev.SourceEvent], None], source: str = SOURCE) -> None:
        """Start the world as a source: say how far it is, `Ready` with the endpoint once it
        is seeded, then hold it until cancelled, and stop it (whenever that comes)."""
        try:
            post(ev.Starting(source, STARTING))
            self.spawn_server()
            await _blocking(self.server.wait_ready)
            post(ev.Starting(source, f"seeding the simulated account at {self.endpoint}"))
            await _blocking(lambda: self.seed_world(changes=False))
            # Up once its resources exist: the console's sources start while the changes that
            # broke it are made (recorded by CloudTrail, a moment later: "what changed").
            post(ev.Ready(source, "the simulated account is up", self.endpoint))
            await asyncio.gather(_blocking(self.start_simulator),
                                 _blocking(lambda: world.break_it(self.endpoint)))
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - one line in the status bar
            post(ev.Failed(source, f"{source}: did not start: {type(exc).__name__}: {exc}"))
            await asyncio.Event().wait()  # the console stays up to show it; quitting stops the rest
        finally:
            self.stop()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            process, self.simulator = self.simulator, None
        if process is not None:
            stop_child(process)
        self.server.stop()

    def __enter__(self) -> DemoWorld:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()


async def _blocking(call: Callable[[], T]) -> T:
    """`call()` on a daemon thread: cancelling the await returns at once (the call goes on
    until the server it talks to is stopped), and a quit never waits for it."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if done.done():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting loop
            _settle_from_thread(loop, settle, None, exc)
        else:
            _settle_from_thread(loop, settle, result, None)

    threading.Thread(target=run, name="warroom-demo-start", daemon=True).start()
    return await done


def _settle_from_thread(loop: asyncio.AbstractEventLoop, settle: Callable[..., None], *args: object) -> None:
    try:
        loop.call_soon_threadsafe(settle, *args)
    except RuntimeError:
        pass  # the loop is closed: the start-up was abandoned
