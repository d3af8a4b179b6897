"""A step's `verify`: poll a read-only call until every `expect` holds, or time out."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import jmespath
import jmespath.exceptions


@dataclass(slots=True)
class VerifyOutcome:
    ok: bool
    attempts: int
    observed: dict[str, Any] = field(default_factory=dict)  # expression -> last value seen
    error: str | None = None                                # the last call error, if any
    timed_out: bool = False

    def describe(self, expect: dict[str, Any]) -> str:
        """Plain words: what was expected and what was last seen."""
        if self.ok:
            return "verified: " + ", ".join(f"{k} = {_short(v)}" for k, v in self.observed.items())
        if self.error and not self.observed:
            return f"could not verify: {self.error}"
        wrong = [f"{k} is {_short(self.observed.get(k))}, expected {_short(v)}"
                 for k, v in expect.items() if not same(self.observed.get(k), v)]
        return "not verified" + (" after timeout" if self.timed_out else "") + ": " + "; ".join(wrong)


def evaluate(response: Any, expect: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    """Whether every JMESPath expression in `expect` gives its expected value, and what they gave."""
    observed: dict[str, Any] = {}
    for expression, expected in expect.items():
        try:
            observed[expression] = jmespath.search(expression, response)
        except jmespath.exceptions.JMESPathError:
            observed[expression] = None
    return all(same(observed[k], v) for k, v in expect.items()), observed


def same(observed: Any, expected: Any) -> bool:
    """Equality that forgives the text/number/boolean difference between YAML and responses."""
    if observed == expected and type(observed) is type(expected):
        return True
    if expected is None or observed is None:
        return observed is expected
    if isinstance(expected, bool) or isinstance(observed, bool):
        return str(observed).lower() == str(expected).lower()
    if isinstance(observed, (int, float)) and isinstance(expected, (int, float, str)):
        try:
            return float(observed) == float(expected)
        except ValueError:
            return False
    if isinstance(observed, (dict, list)) or isinstance(expected, (dict, list)):
        return observed == expected
    return str(observed) == str(expected)


async def poll(fetch: Callable[[], Awaitable[Any]], expect: dict[str, Any], *, timeout: float,
               interval: float = 1.0, max_interval: float = 5.0,
               on_attempt: Callable[[int, dict[str, Any], str | None], Awaitable[None]] | None = None,
               explain: Callable[[BaseException], str] = str) -> VerifyOutcome:
    """Call `fetch` until `expect` holds or `timeout` seconds pass; the first call is immediate."""
    deadline = time.monotonic() + timeout
    attempts = 0
    observed: dict[str, Any] = {}
    error: str | None = None
    wait = interval
    while True:
        attempts += 1
        try:
            response = await fetch()
        except Exception as exc:  # noqa: BLE001 - reported, and polling goes on until the deadline
            error = explain(exc)
        else:
            error = None
            ok, observed = evaluate(response, expect)
            if ok:
                return VerifyOutcome(True, attempts, observed)
        if on_attempt is not None:
            await on_attempt(attempts, observed, error)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return VerifyOutcome(False, attempts, observed, error, timed_out=True)
        await asyncio.sleep(min(wait, remaining))
        wait = min(wait * 1.5, max_interval)


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."
