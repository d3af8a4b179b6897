"""Keeping secret values out of everything shown, streamed or logged."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from warroom.redact import redact

MASK = "********"
_MIN_SUBSTRING = 4

# Response fields that hold secret material whatever their value looks like.
_SECRET_KEYS = re.compile(r"(?i)^(?:SecretString|SecretBinary|Password|PrivateKey|Plaintext|"
                          r"SecretAccessKey|SessionToken|Token|AuthToken|ClientSecret)$")


class Masker:
    """Masks the values typed for `type: secret` inputs, token formats and secret-named fields."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, value: Any) -> None:
        text = str(value)
        if text:
            self._secrets.add(text)

    @property
    def active(self) -> bool:
        return bool(self._secrets)

    def text(self, text: str) -> str:
        # Longest first so that a secret containing another is masked whole. A value too
        # short to be a real secret is masked only where it is the whole text: masking
        # every "y" inside other words would garble everything shown.
        for secret in sorted(self._secrets, key=len, reverse=True):
            if text == secret:
                return MASK
            if len(secret) >= _MIN_SUBSTRING and secret in text:
                text = text.replace(secret, MASK)
        return redact(text)

    def value(self, value: Any, keys: bool = True) -> Any:
        """A copy of a nested JSON-like value with every secret masked.

        `keys` also masks whole fields named like secrets (SecretString, Password...): right
        for responses; plans pass False to keep the shape of a value built around a secret.
        """
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, (bytes, bytearray)):
            return f"<{len(value)} bytes>"
        if isinstance(value, Mapping):
            return {k: (MASK if keys and isinstance(k, str) and _SECRET_KEYS.match(k) and v not in (None, "")
                        else self.value(v, keys)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v, keys) for v in value]
        if isinstance(value, (int, float, bool)) or value is None:
            return value
        return self.text(str(value))  # datetimes, streaming bodies: their text form
