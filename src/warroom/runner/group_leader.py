"""Leads the process group of one shell step; run as a script, never imported by warroom.

`python -I -S group_leader.py WARROOM_PID COMMAND`, started in a new session, so this
process leads the step's process group. It asks Linux for SIGTERM when warroom dies
(PR_SET_PDEATHSIG: also when warroom is SIGKILLed and can clean up nothing), runs COMMAND
with /bin/sh, and on SIGTERM, SIGHUP or SIGINT kills the whole group: the shell and
everything it started that stayed in the group (a `sleep`, `aws`, `terraform` and their
children). Only a process that leaves the group on purpose (setsid, nohup to a new
session) escapes. When the shell ends, what it left running in the group is ended too, so
no step outlives its own confirm. Exit status: the shell's, or 128+N if signal N ended it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def _kill_group(signum: int, frame: object) -> None:
    os.killpg(0, signal.SIGKILL)  # this process too: nothing is left to report to


def _die_with_parent(parent: int) -> bool:
    """Arrange SIGTERM at the parent's death; False if it is already gone."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    # The parent may have died before prctl took effect: then we were reparented already.
    return os.getppid() == parent


def main(argv: list[str]) -> int:
    parent, command = int(argv[1]), argv[2]
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, _kill_group)
    if not _die_with_parent(parent):
        return 128 + signal.SIGTERM
    # Exec resets the handlers above in the shell; Python's ignored SIGPIPE and SIGXFSZ
    # are put back to the default as well, as subprocess does.
    shell = os.posix_spawn("/bin/sh", ["/bin/sh", "-c", command], os.environ,
                           setsigdef=(signal.SIGPIPE, signal.SIGXFSZ))
    _, status = os.waitpid(shell, 0)
    code = os.waitstatus_to_exitcode(status)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    os.killpg(0, signal.SIGTERM)  # leftovers in the group (`cmd &`), not this process
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
