"""Structured log events (Lambda's JSON log format, Powertools, any JSON object) as one readable line.

`{"level":"ERROR","message":"boom","requestId":"r1"}` reads `ERROR boom requestId=r1`. The
timestamp keys go (the line has its time column); a string value with newlines (a logged
traceback) keeps them, so the logs pane shows it as continuation lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

LEVEL_KEYS = ("level", "levelname", "log_level", "severity", "lvl")
MESSAGE_KEYS = ("message", "msg", "errorMessage")
TIME_KEYS = frozenset({"timestamp", "time", "ts", "@timestamp", "asctime"})
# Level word -> the style family the logs pane colours it with.
LEVELS = {"ERROR": "error", "FATAL": "error", "CRITICAL": "error", "CRIT": "error",
          "EMERG": "error", "ALERT": "error", "WARN": "warn", "WARNING": "warn",
          "INFO": "info", "NOTICE": "info", "DEBUG": "debug", "TRACE": "debug"}


@dataclass(frozen=True, slots=True)
class JsonEvent:
    """The readable form of a JSON event: `LEVEL message key=value...`."""

    text: str
    level: str          # the level word as shown, upper case ("" when the event has none)

    @property
    def family(self) -> str:
        """error, warn, info or debug ("" for an unknown level)."""
        return LEVELS.get(self.level, "")


def parse(message: str) -> JsonEvent | None:
    """The readable form, or None when the message is not one JSON object."""
    text = message.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return None
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    level = _first(obj, LEVEL_KEYS)
    body = _first(obj, MESSAGE_KEYS)
    used = {k for k in (*LEVEL_KEYS, *MESSAGE_KEYS) if k in obj}
    level_word = level.upper() if isinstance(level, str) else ""
    parts = [level_word] if level_word else []
    if body is not None:
        parts.append(body if isinstance(body, str) else _value(body))
    parts += [f"{k}={_value(v)}" for k, v in obj.items() if k not in used and k not in TIME_KEYS]
    return JsonEvent(" ".join(parts), level_word)


def locate(raw: str, shown: str) -> tuple[int, int] | None:
    """Where a span of the raw JSON (`raw`, a symptom match) appears in the readable form."""
    at = shown.find(raw)
    if at < 0:
        try:  # the match may cover JSON escapes (\\n, \\", \\u00e9) that the readable form decoded
            decoded = json.loads(f'"{raw}"')
        except ValueError:
            return None
        at = shown.find(decoded) if decoded else -1
        raw = decoded
    return (at, at + len(raw)) if at >= 0 and raw else None


def _first(obj: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((obj[k] for k in keys if k in obj), None)


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
