"""Files the console writes for the user: always new, private (0600), never through a symlink."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

from warroom.tui.lines import plain

# O_EXCL already refuses any existing name, a symlink included (even a dangling one, which
# O_CREAT alone would follow); O_NOFOLLOW says so again where a platform is lax about it.
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class NotWritten(Exception):
    """The file was not created; the message is one line naming the path and why."""


def create_private(path: Path) -> TextIO:
    """A new file at `path` open for writing, readable by its owner only."""
    try:
        fd = os.open(path, _FLAGS, 0o600)
    except FileExistsError:
        what = "is a symbolic link" if path.is_symlink() else "already exists"
        raise NotWritten(f"{plain(str(path))} {what}; nothing written") from None
    except OSError as exc:
        raise NotWritten(f"{plain(str(path))}: {exc.strerror or exc}; nothing written") from None
    return os.fdopen(fd, "w", encoding="utf-8")
