"""Running a confirmed shell step with its output streamed line by line.

The command runs under `group_leader.py` in its own session and process group: a cancel
kills the group, and the leader takes the group down when warroom dies, even by SIGKILL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

_LEADER = Path(__file__).with_name("group_leader.py")


def resolve_cwd(cwd: str | None) -> Path:
    """The directory a shell step runs in: `~` expanded, relative to where warroom started."""
    return Path(os.path.expanduser(cwd or ".")).resolve()


def aws_environment(profile: str | None, region: str | None, endpoint_url: str | None) -> dict[str, str]:
    """warroom's environment aimed where the run is aimed, so `aws` in a step acts there too."""
    env = dict(os.environ)
    for key, value in (("AWS_PROFILE", profile), ("AWS_REGION", region),
                       ("AWS_DEFAULT_REGION", region), ("AWS_ENDPOINT_URL", endpoint_url)):
        if value:
            env[key] = value
    return env


async def run_shell(command: str, cwd: Path, on_line: Callable[[str], Awaitable[None]],
                    env: dict[str, str] | None = None) -> int:
    """Run `command` with /bin/sh in `cwd`; stdout and stderr merged; returns the exit status."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-I", "-S", str(_LEADER), str(os.getpid()), command,
        cwd=str(cwd), env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True)
    assert process.stdout is not None
    try:
        while True:
            raw = await process.stdout.readline()
            if not raw:
                break
            await on_line(raw.decode("utf-8", "replace").rstrip("\r\n"))
        return await process.wait()
    except BaseException:
        # Cancelled (the user quit): the command and all it started stop with us.
        if process.returncode is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            await process.wait()
        raise
