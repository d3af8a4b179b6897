"""The one grammar for `--since` and time windows, in every command and in the console.

A duration back from now (`90s`, `15m`, `2h30m`, `1d`, `1w`, with decimals: `1.5h`) or a
point in time in ISO 8601 (`2026-05-01`, `2026-05-01T10:00`, `...Z`, `...+02:00`). A time
with no zone is the user's local time: they read it off their own clock.
"""

from __future__ import annotations

import re
import time
from datetime import datetime

from warroom.errors import UserError

_PART = r"(\d+(?:\.\d+)?)([smhdw])"
_DURATION = re.compile(rf"(?:{_PART})+")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
HELP = ("a duration back from now (90s, 15m, 2h30m, 1d) or an ISO time "
        "(2026-05-01T10:00, local unless it ends in Z or +HH:MM)")


def duration_seconds(text: str) -> float | None:
    """`2h30m` -> 9000.0; None when `text` is not a duration."""
    value = text.strip().lower().replace(" ", "")
    if not _DURATION.fullmatch(value):
        return None
    return sum(float(n) * _UNIT_S[u] for n, u in re.findall(_PART, value))


def parse_since(text: str, now: float | None = None, *, option: str = "--since") -> float:
    """The moment `text` names, as epoch seconds; a UserError says what is wrong and how to write it."""
    now = time.time() if now is None else now
    seconds = duration_seconds(text)
    if seconds is not None:
        return now - seconds
    try:
        when = datetime.fromisoformat(text.strip().upper().replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"{option} {text!r}: expected {HELP}") from None
    if when.tzinfo is None:
        when = when.astimezone()
    if when.timestamp() > now:
        raise UserError(f"{option} {text!r}: that is in the future")
    return when.timestamp()


def since_ms(text: str, now_ms: int | None = None, *, option: str = "--since") -> int:
    """`parse_since` in epoch milliseconds, as CloudWatch wants them."""
    now = time.time() if now_ms is None else now_ms / 1000
    return int(parse_since(text, now, option=option) * 1000)
