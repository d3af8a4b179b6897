"""moto's HTTP server on 127.0.0.1 in a child process, and the handle the parent keeps.

The child exits when its stdin closes, so it cannot outlive the parent, however the
parent ends (quit, Ctrl-C, crash, SIGKILL).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import urllib.request
from types import TracebackType
from typing import Any

from warroom.demo.faults import CONTROL_PATH

READY_PREFIX = "port="

# Dummy credentials for the offline world: moto accepts any, and they must never be real.
OFFLINE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


class MotoServer:
    """A running moto server in a child process; use as a context manager."""

    def __init__(self, port: int = 0, quotas: bool = False, latency_ms: float = 0.0,
                 warm: bool = False) -> None:
        self.requested_port = port
        self.warm = warm              # answer only once the demo world's services are built
        self.quotas = quotas          # CloudWatch Logs' per-account quotas (see quotas.py)
        self.latency_ms = latency_ms  # added to every AWS call
        self.process: subprocess.Popen[str] | None = None
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        return self.spawn().wait_ready()

    def spawn(self) -> MotoServer:
        """Start the child without waiting for it (`wait_ready` does): it boots meanwhile."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "warroom.demo.server", "--port", str(self.requested_port),
             "--latency", str(self.latency_ms), *([] if self.quotas else ["--no-quotas"]),
             *(["--warm"] if self.warm else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, env=env, start_new_session=True,
        )
        return self

    def wait_ready(self) -> MotoServer:
        """Block until the child answers with its port."""
        assert self.process is not None and self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.startswith(READY_PREFIX):
            self.stop()
            raise RuntimeError(f"moto server did not start (said {line!r})")
        self.port = int(line[len(READY_PREFIX):])
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            stop_child(process)

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def _post(self, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(payload or {}).encode()
        request = urllib.request.Request(self.endpoint + path, data=data, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            body = response.read()
        return json.loads(body) if body.strip().startswith(b"{") else {}

    def reset(self) -> None:
        """Forget every resource (moto's state is global to the server process)."""
        self._post("/moto-api/reset")

    def faults(self, **config: Any) -> dict[str, Any]:
        """Set the fault-injection config (see FaultConfig); no arguments turns faults off."""
        return self._post(CONTROL_PATH, config)

    def account(self, **config: Any) -> dict[str, Any]:
        """Change the quotas and latency (see quotas.QuotaConfig); answers them and the call counts."""
        from warroom.demo.quotas import CONTROL_PATH as QUOTAS_PATH

        return self._post(QUOTAS_PATH, config)

    def live_tail(self, **config: Any) -> dict[str, Any]:
        """Change Live Tail's limits (livetail.LiveTailConfig; `drop=True` ends every session)."""
        from warroom.demo.livetail import CONTROL_PATH as LIVE_TAIL_PATH

        return self._post(LIVE_TAIL_PATH, config)


def stop_child(process: subprocess.Popen[str]) -> None:
    """End a child that watches its stdin: close it, wait, and kill if it lingers."""
    if process.stdin:
        try:
            process.stdin.close()  # the child's watcher sees EOF and exits
        except OSError:
            pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout:
        process.stdout.close()


def _watch_parent() -> None:
    sys.stdin.read()
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="moto server for warroom (internal)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-quotas", action="store_true")
    parser.add_argument("--latency", type=float, default=0.0, metavar="MS")
    parser.add_argument("--warm", action="store_true")
    args = parser.parse_args(argv)

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from warroom.demo.cloudtrail import CloudTrailRecorder
    from warroom.demo.emulation import WorldControl
    from warroom.demo.faults import FaultInjector
    from warroom.demo.iam_simulator import follow_faults
    from warroom.demo.insights import Insights
    from warroom.demo.livetail import LiveTail
    from warroom.demo.logmetrics import LogMetrics
    from warroom.demo.quotas import AccountQuotas, QuotaConfig
    from warroom.demo.readapis import ReadApis

    # Faults sit outside the emulation so that emulated calls can be throttled too; the
    # trail records what the emulation and moto served, not what a fault refused.
    # Quotas and latency are the account's own behaviour, under any injected fault.
    quotas = QuotaConfig(enabled=not args.no_quotas, latency_ms=args.latency)
    dispatcher = DomainDispatcherApplication(create_backend_app)
    app = FaultInjector(AccountQuotas(CloudTrailRecorder(LiveTail(Insights(LogMetrics(WorldControl(
        ReadApis(dispatcher)))))), quotas))
    follow_faults(lambda: app.config.deny)  # the policy simulator denies what the faults deny
    server = make_server("127.0.0.1", args.port, app, threaded=True,
                         request_handler=MotoRequestHandler)
    threading.Thread(target=_watch_parent, daemon=True).start()
    if args.warm:  # after the watch: a parent that goes away meanwhile still ends this
        from warroom.demo.warmup import warm

        warm(dispatcher, create_backend_app)
    print(f"{READY_PREFIX}{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
