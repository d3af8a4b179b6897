"""Masking secrets (AWS keys, GitHub tokens) before text is shown, printed or logged.

Masks keep the length of what they replace, so match spans computed on the original
text stay valid on the redacted one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_SECRET_PATTERNS = [
    # AWS access key ids (long-term AKIA, temporary ASIA, and other principal kinds)
    re.compile(r"\b(?:AKIA|ASIA|AROA|AIDA|ANPA|ANVA|AGPA)([A-Z0-9]{16})\b"),
    # GitHub tokens: classic prefixes and fine-grained PATs
    re.compile(r"\bgh[pousr]_([A-Za-z0-9]{30,})"),
    re.compile(r"\bgithub_pat_([A-Za-z0-9_]{22,})"),
    # AWS secret access keys and session tokens next to their usual names
    re.compile(r"(?i)(?:aws_?secret_?access_?key|secretaccesskey|aws_?session_?token|sessiontoken)"
               r"[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+=]{16,})"),
    # Authorization headers and x-access-token URLs
    re.compile(r"(?i)\b(?:token|bearer)\s+([A-Za-z0-9_\-.=]{20,})"),
    re.compile(r"(?i)x-access-token:([^@\s]+)@"),
]


def redact(text: str) -> str:
    """Replace every secret in `text` by asterisks of the same length."""
    if not text:
        return text
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(_mask, text)
    return text


def _mask(found: re.Match[str]) -> str:
    whole = found.group(0)
    start, end = found.span(1)
    offset = found.start(0)
    return whole[: start - offset] + "*" * (end - start) + whole[end - offset:]


def redact_value(value: Any) -> Any:
    """Redact strings anywhere inside a nested JSON-like value."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(v) for v in value]
    return value


def _secret_checks() -> list[tuple[re.Pattern[str] | None, list[frozenset[str]] | None]]:
    """Per secret pattern, a cheap test that text holding a match must pass: a looser
    regex (no leading \b, so `re` can scan for its literal prefix), or for a caseless
    pattern the literals a match must contain (used on ASCII text only)."""
    from warroom.playbook.literals import conjuncts

    checks: list[tuple[re.Pattern[str] | None, list[frozenset[str]] | None]] = []
    for pattern in _SECRET_PATTERNS:
        if pattern.flags & re.IGNORECASE:
            factors, _ = conjuncts(pattern.pattern, True)
            checks.append((None, factors or None))
        else:
            checks.append((re.compile(pattern.pattern.removeprefix(r"\b"), pattern.flags), None))
    return checks


_SECRET_CHECKS = _secret_checks()


def may_hold_secrets(text: str) -> bool:
    """False only if `redact` would change nothing in `text` or in any line of it."""
    ascii_only = text.isascii()
    lower = text.lower() if ascii_only else ""
    for loose, factors in _SECRET_CHECKS:
        if loose is not None:
            if loose.search(text):
                return True
        elif not ascii_only or factors is None or all(any(f in lower for f in fs) for fs in factors):
            return True
    return False
