"""Keeping secret values out of everything shown, streamed or logged."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from warroom.redact import redact

MASK = "********"
_MIN_SUBSTRING = 4

# Response fields that hold secret material whatever their value looks like: names that
# end like these (DbPassword, authorizationToken, KeyMaterial of a new key pair) but not
# PasswordLastUsed or NextToken.
_SECRET_KEYS = re.compile(r"(?i)^(?:\w*(?:password|passwd|passphrase|privatekey|keymaterial|"
                          r"secretstring|secretbinary|secretaccesskey|sessiontoken|authtoken|"
                          r"authorizationtoken|clientsecret|apikey)|plaintext|token|secret)$")
# A Lambda function's environment: any value may be a credential (DB_PASSWORD=..., an API
# key), so no value is shown; the names are what a diagnosis needs.
_ENV_VARIABLES = re.compile(r"(?:^|\.)Environment\.Variables$")
_ENV_VARIABLE = re.compile(r"(?:^|\.)Environment\.Variables\.[^.]+$")


class Masker:
    """Masks the values typed for `type: secret` inputs, token formats and secret-named fields."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._env: set[tuple[str, str]] = set()  # (name, value) of environment variables seen

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
        Such a field's text is remembered as a secret, so that it is masked wherever else it
        shows up: a capture, a later step's parameters or output, the audit. Lambda
        environment variables keep their names and lose their values, in plans as well.
        """
        return self._walk(value, keys, "")

    def _walk(self, value: Any, keys: bool, where: str) -> Any:
        # `where` is the dotted name `value` sits under (`Environment.Variables` is the same
        # written as a JMESPath `show:` key or as two levels of a response).
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, (bytes, bytearray)):
            return f"<{len(value)} bytes>"
        if isinstance(value, Mapping):
            # An SSM parameter read with decryption: its Value is the secret.
            secure = value.get("Type") == "SecureString"
            out = {}
            for k, v in value.items():
                name = f"{where.rsplit('.', 1)[-1]}.{k}" if where else str(k)
                if v in (None, "") or not isinstance(k, str):
                    out[k] = self._walk(v, keys, name)
                elif _ENV_VARIABLES.search(name) and isinstance(v, Mapping):
                    out[k] = self._environment(v, keys)
                elif _ENV_VARIABLE.search(name) or (isinstance(v, str) and (k, v) in self._env):
                    out[k] = MASK
                elif keys and (_SECRET_KEYS.match(k) or (secure and k == "Value")):
                    out[k] = self._field(v)
                else:
                    out[k] = self._walk(v, keys, name)
            return out
        if isinstance(value, (list, tuple)):
            return [self._walk(v, keys, where) for v in value]
        if isinstance(value, (int, float, bool)) or value is None:
            return value
        return self.text(str(value))  # datetimes, streaming bodies: their text form

    def _environment(self, variables: Mapping[str, Any], keys: bool) -> dict[str, Any]:
        """Names with masked values. Each (name, value) is remembered: the same variables
        captured for a later `$merge` are masked wherever they show, without their path.
        A template not rendered yet (`{$merge: [...]}` in a preview) holds no value: shown."""
        out: dict[str, Any] = {}
        for name, value in variables.items():
            if value in (None, "") or isinstance(value, (Mapping, list, tuple)):
                out[name] = self._walk(value, keys, str(name))
                continue
            self._env.add((str(name), str(value)))
            out[name] = MASK
        return out

    def _field(self, value: Any) -> str:
        """The mask for a secret-named field; its text, if any, becomes a known secret."""
        if isinstance(value, str) and value != MASK:
            self.add(value)
        return MASK
