"""`{name}` parameter templating for step parameters, commands and texts."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

# Only `{identifier}` is a placeholder, so JMESPath queries such as `{Name:Name}` and
# shell `${VAR}` stay literal without any escaping in playbooks.
PLACEHOLDER = re.compile(r"(?<!\$)\{([A-Za-z_][A-Za-z0-9_]*)\}")


MERGE = "$merge"


class MissingParameter(KeyError):
    """A template names a parameter that has no value."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"no value for parameter '{self.name}'"


def names_in(value: Any) -> Iterator[str]:
    """Every placeholder name used anywhere inside a (nested) value."""
    if isinstance(value, str):
        yield from (m.group(1) for m in PLACEHOLDER.finditer(value))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from names_in(key)
            yield from names_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from names_in(item)


def render(value: Any, values: Mapping[str, Any]) -> Any:
    """Fill placeholders; a string that is exactly one placeholder keeps the value's type."""
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole:
            return _lookup(whole.group(1), values)
        return PLACEHOLDER.sub(lambda m: str(_lookup(m.group(1), values)), value)
    if isinstance(value, Mapping):
        if set(value) == {MERGE}:
            return _merge(render(value[MERGE], values))
        return {render(k, values): render(v, values) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [render(item, values) for item in value]
    return value


def _merge(parts: Any) -> dict[str, Any]:
    # `{$merge: ['{current_vars}', {NAME: '{value}'}]}`: later mappings win. Lets a fix add
    # one key to a captured map (Lambda environment variables) without dropping the rest.
    if not isinstance(parts, list) or not all(isinstance(p, Mapping) for p in parts):
        raise ValueError("$merge takes a list of mappings")
    merged: dict[str, Any] = {}
    for part in parts:
        merged.update(part)
    return merged


def _lookup(name: str, values: Mapping[str, Any]) -> Any:
    if name not in values or values[name] is None:
        raise MissingParameter(name)
    return values[name]
