"""An unexpected error in the console: terminal restored, one line, traceback file, exit 70."""

from __future__ import annotations

import os
import pty
import re
import select
import stat
import subprocess
import sys
import termios
import time
from pathlib import Path

from warroom.tui.crash import EXIT_INTERNAL, report

ROOT = Path(__file__).resolve().parent.parent
SECRET = "AKIAIOSFODNN7EXAMPLE"

# The console on the sample incident, with a handler that fails once the screen is up:
# `pump` runs right after the first refresh (ConsoleApp.on_mount).
SCRIPT = f"""
import sys
from tests.tui_helpers import sample_app
from warroom.commands.console import run_app
from warroom.tui.app import ConsoleApp

def pump(self):
    raise RuntimeError("injected [bold]failure[/bold] key {SECRET}\\nsecond line")

ConsoleApp.pump = pump
sys.exit(run_app(sample_app()))
"""


def _read_all(fd: int, bound: float = 60.0) -> bytes:
    """Everything the child writes to the terminal until it closes it (a bound against hangs)."""
    out = b""
    end = time.monotonic() + bound
    while time.monotonic() < end:
        if not select.select([fd], [], [], max(0.0, end - time.monotonic()))[0]:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed its end of the terminal
            return out
        if not chunk:
            return out
        out += chunk
    raise AssertionError(f"the console did not exit; it wrote: {out[-500:]!r}")


def test_a_crash_restores_the_terminal_and_prints_one_line(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    tty_name = os.ttyname(slave)
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path), "TERM": "xterm-256color",
           "COLUMNS": "120", "LINES": "40", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT], stdin=slave, stdout=slave,
                            stderr=slave, cwd=ROOT, env=env, close_fds=True)
    os.close(slave)
    try:
        output = _read_all(master).decode("utf-8", "replace")
        assert proc.wait(timeout=60) == EXIT_INTERNAL
        # The terminal is back in line mode with echo (Textual had it raw).
        again = os.open(tty_name, os.O_RDWR | os.O_NOCTTY)
        lflag = termios.tcgetattr(again)[3]
        os.close(again)
        assert lflag & termios.ICANON and lflag & termios.ECHO
    finally:
        proc.kill()
        os.close(master)
    # The screen was taken over and given back (alternate screen left) before the line.
    assert "\x1b[?1049h" in output and "\x1b[?1049l" in output
    after = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output.rsplit("\x1b[?1049l", 1)[1])
    lines = [line for line in after.replace("\r", "").split("\n") if line.strip()]
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith("warroom: internal error: RuntimeError: injected [bold]failure[/bold]")
    assert SECRET not in output and "second line" not in output and "Traceback" not in output
    path = Path(line.rsplit("; traceback in ", 1)[1].strip())
    assert path.parent == tmp_path / "warroom"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    written = path.read_text()
    assert "Traceback" in written and "in pump" in written and "second line" in written
    assert SECRET not in written


def test_the_report_line_is_inert_and_says_when_the_file_was_not_written(tmp_path: Path) -> None:
    try:
        raise ValueError("bad \x1b[2J\x1b]8;;http://evil.example\x07 value")
    except ValueError as exc:
        line = report(exc, tmp_path)
    assert "\x1b" not in line and "\\x1b[2J" in line
    assert Path(line.rsplit("; traceback in ", 1)[1]).exists()
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    line = report(ValueError("x"), not_a_dir)
    assert line.startswith("warroom: internal error: ValueError: x; the traceback could not be written")
    assert "\n" not in line
