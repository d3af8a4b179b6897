"""After a fix: watch the symptom for a while and say whether it came back."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

# Given a time T (seconds since the epoch), how many times the symptom was seen since T
# (or a bool). The console answers from its live records and findings; anything else
# (a log query, a metric) can too.
SeenSince = Callable[[float], "int | bool | Awaitable[int | bool]"]


@dataclass(frozen=True, slots=True)
class WatchResult:
    recurred: bool
    seen: int              # occurrences reported at the last check
    since: float           # the T the symptom was watched from (epoch seconds)
    watched: float         # seconds actually watched
    checks: int

    def describe(self) -> str:
        minutes = self.watched / 60
        if self.recurred:
            return f"the symptom came back ({self.seen} time(s) within {minutes:.1f} min of the fix)"
        return f"the symptom did not recur in {minutes:.1f} min"


async def watch(seen_since: SeenSince, *, since: float | None = None, duration: float = 180.0,
                interval: float = 10.0,
                on_check: Callable[[int, float], Awaitable[None]] | None = None) -> WatchResult:
    """Check `seen_since(since)` every `interval` s for `duration` s; stop at the first recurrence.

    `on_check(seen, elapsed)` is told after each check, for a countdown on screen.
    """
    since = time.time() if since is None else since
    start = time.monotonic()
    checks = 0
    while True:
        answer = seen_since(since)
        if inspect.isawaitable(answer):
            answer = await answer
        seen = int(answer)
        checks += 1
        elapsed = time.monotonic() - start
        if on_check is not None:
            await on_check(seen, elapsed)
        if seen:
            return WatchResult(True, seen, since, elapsed, checks)
        if elapsed >= duration:
            return WatchResult(False, 0, since, elapsed, checks)
        await asyncio.sleep(min(interval, duration - elapsed))
