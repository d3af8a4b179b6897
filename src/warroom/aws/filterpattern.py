"""What CloudWatch takes as a filter pattern sent at the user's word (`--filter-pattern`, `:pattern`)."""

from __future__ import annotations

LIMIT = 1024  # characters: StartLiveTail's logEventFilterPattern takes no more


def problem(pattern: str) -> str | None:
    """Why `pattern` cannot be sent as it is, in a few words; None when it can."""
    if len(pattern) > LIMIT:
        return f"at most {LIMIT} characters (this one has {len(pattern):,})"
    if any(ord(c) < 32 or ord(c) == 127 for c in pattern):
        return "no control characters"
    return None
