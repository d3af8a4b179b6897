"""`{name}` parameter templating for step parameters, commands and texts."""

from __future__ import annotations

import re
import shlex
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


def render_shell(template: str, values: Mapping[str, Any]) -> str:
    """A shell command with every placeholder's value inserted as one shell-quoted word.

    The quoting is the whole defence, so a template whose placeholder the shell would not
    read as a word (inside quotes, a comment...) is refused with UnsafeShell.
    """
    problem = shell_problem(template)
    if problem:
        raise UnsafeShell(problem)
    return PLACEHOLDER.sub(lambda m: shlex.quote(str(_lookup(m.group(1), values))), template)


_CLOSE = {"${": "}", "$((": "))"}


class UnsafeShell(ValueError):
    """A shell template places a value where quoting it would not keep it one word."""


def shell_problem(template: str) -> str | None:
    """Why a placeholder in `template` is not where the shell reads plain words, or None.

    A quoted value stays data only where quotes are quote syntax: not inside '...' or
    "..." (`"{x}"` would hand `$(...)` in the value to the shell), not after a backslash,
    in a comment (a newline in the value would end it), a here-document, `${...}` or
    `$((...))`. `$(...)` and backquotes start fresh word contexts and are fine.
    """
    # A stack of contexts: "word" (where placeholders may go), "'", '"', "${", "$((", "#".
    stack: list[list[Any]] = [["word", 0]]  # [context, open parentheses inside it]
    heredoc = False
    i, n = 0, len(template)
    while i < n:
        context, c = stack[-1][0], template[i]
        found = PLACEHOLDER.match(template, i)
        if found and (context != "word" or heredoc):
            where = ("after a here-document marker (<<)" if heredoc and context == "word" else
                     {"'": "inside '...'", '"': 'inside "..."', "${": "inside ${...}",
                      "$((": "inside $((...))", "#": "in a comment"}[context])
            return (f"{{{found.group(1)}}} is {where}; write it as a bare word: warroom "
                    "quotes every value itself")
        if context == "'":
            if c == "'":
                stack.pop()
        elif context == "#":
            if c == "\n":
                stack.pop()
        elif c == "\\":
            if found := PLACEHOLDER.match(template, i + 1):
                return f"{{{found.group(1)}}} follows a backslash; write it as a bare word"
            i += 1
        elif context == '"' and c == '"':
            stack.pop()
        elif context in ("${", "$((") and c in ")}" and stack[-1][1] > 0:
            stack[-1][1] -= 1
        elif context in ("${", "$((") and template.startswith(_CLOSE[context], i):
            stack.pop()
            i += len(_CLOSE[context]) - 1
        elif template.startswith("$((", i):
            stack.append(["$((", 0])
            i += 2
        elif template.startswith("${", i):
            stack.append(["${", 0])
            i += 1
        elif template.startswith("$(", i):
            stack.append(["word", 0])
            i += 1
        elif c in "({" and context != '"':
            stack[-1][1] += 1
        elif c == ")" and context == "word" and len(stack) > 1:
            if stack[-1][1] == 0:
                stack.pop()
            else:
                stack[-1][1] -= 1
        elif context == "word" and c in "'\"":
            stack.append([c, 0])
        elif context == "word" and c == "#" and (i == 0 or template[i - 1] in " \t\n;&|("):
            stack.append(["#", 0])
        elif context == "word" and template.startswith("<<", i):
            heredoc = True
        i += 1
    return None
