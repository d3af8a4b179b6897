"""An unexpected error in the console: the traceback to a private file, one line on stderr."""

from __future__ import annotations

import os
import time
import traceback
from pathlib import Path

from warroom.redact import redact
from warroom.tui.lines import plain
from warroom.tui.savefile import NotWritten, create_private

EXIT_INTERNAL = 70  # EX_SOFTWARE in sysexits.h: an internal software error


def crash_dir() -> Path:
    from platformdirs import user_state_dir

    return Path(user_state_dir("warroom"))


def report(error: BaseException, directory: Path | None = None) -> str:
    """Write the traceback (secrets masked) and return the line for stderr."""
    first = (str(error).strip().splitlines() or [""])[0]
    summary = plain(f"{type(error).__name__}: {first}" if first else type(error).__name__)[:300]
    directory = directory or crash_dir()
    name = time.strftime("crash-%Y%m%d-%H%M%S", time.gmtime()) + f"-{os.getpid()}.txt"
    path = directory / name
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with create_private(path) as out:
            out.write(redact("".join(traceback.format_exception(error))))
    except (NotWritten, OSError) as exc:
        return f"warroom: internal error: {summary}; the traceback could not be written: {exc}"
    return f"warroom: internal error: {summary}; traceback in {plain(str(path))}"
