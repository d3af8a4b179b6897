"""Running a confirmed shell step with its output streamed line by line."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path


def resolve_cwd(cwd: str | None) -> Path:
    """The directory a shell step runs in: `~` expanded, relative to where warroom started."""
    return Path(os.path.expanduser(cwd or ".")).resolve()


async def run_shell(command: str, cwd: Path, on_line: Callable[[str], Awaitable[None]]) -> int:
    """Run `command` with /bin/sh in `cwd`; stdout and stderr merged; returns the exit status."""
    process = await asyncio.create_subprocess_shell(
        command, cwd=str(cwd), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    assert process.stdout is not None
    try:
        while True:
            raw = await process.stdout.readline()
            if not raw:
                break
            await on_line(raw.decode("utf-8", "replace").rstrip("\r\n"))
        return await process.wait()
    except BaseException:
        # Cancelled (the user quit): do not leave the command running behind us.
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
