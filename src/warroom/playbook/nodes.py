"""Reading a composed YAML tree field by field, collecting `FILE:LINE: field: problem` errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml

try:  # libyaml is an order of magnitude faster; PyYAML falls back to pure Python.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a playbook, located precisely."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: "
        return f"{where}{self.field}: {self.message}" if self.field else f"{where}{self.message}"


@dataclass
class Problems:
    file: str
    items: list[Problem] = field(default_factory=list)

    def add(self, node: yaml.Node | None, path: str, message: str, line: int | None = None) -> None:
        if line is None:
            line = node.start_mark.line + 1 if node is not None else 1
        self.items.append(Problem(self.file, line, path, message))

    def __bool__(self) -> bool:
        return bool(self.items)


# An alias is a reference: composing is linear, but everything that walks the tree
# afterwards (plain(), template checks, rendering) expands it. A billion-laughs file is a
# few hundred bytes, so the expanded size is bounded before anything else sees the tree.
MAX_ALIAS_NODES = 10_000
# plain() and the template walkers recurse; far below Python's recursion limit.
MAX_DEPTH = 64


def compose(text: str, file: str, problems: Problems) -> yaml.Node | None:
    """Parse YAML into a node tree; a syntax error or an alias bomb becomes one located problem."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        problems.add(None, "", f"YAML syntax: {message}", line=line)
        return None
    except yaml.YAMLError as exc:
        problems.add(None, "", f"YAML syntax: {exc}")
        return None
    found = _oversized(root) if root is not None else None
    if found is None:
        return root
    where, message = found
    line = where.start_mark.line + 1 if isinstance(where, yaml.Node) else _alias_line(text, where)
    problems.add(None, "", message, line=line)
    return None


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield value
    elif isinstance(node, yaml.SequenceNode):
        yield from node.value


def _oversized(root: yaml.Node) -> tuple[yaml.Node | int, str] | None:
    """Why the tree is too big once aliases are expanded, or too deep, with where: a node,
    or the number of the offending alias in document order. Visits each node once."""
    expanded: dict[int, int] = {}   # id(node) -> size with its aliases expanded
    open_ids: set[int] = set()      # the nodes on the current path
    stack: list[tuple[yaml.Node, Iterator[yaml.Node]]] = []
    sizes: list[int] = []           # running expanded size of each node on the path
    added = aliases = 0
    node: yaml.Node | None = root
    while True:
        if node is not None:
            key = id(node)
            if key in open_ids:  # composing in document order: a node seen again is an alias
                return aliases + 1, "YAML alias refers to a node that contains it"
            if key in expanded:
                aliases += 1
                added += expanded[key]
                if added > MAX_ALIAS_NODES:
                    return aliases, f"YAML aliases expand to more than {MAX_ALIAS_NODES} nodes"
                sizes[-1] += expanded[key]
            elif len(stack) >= MAX_DEPTH:
                return node, f"YAML nested deeper than {MAX_DEPTH} levels"
            else:
                open_ids.add(key)
                stack.append((node, _children(node)))
                sizes.append(1)
        if not stack:
            return None
        parent, children = stack[-1]
        node = next(children, None)
        if node is None:
            stack.pop()
            open_ids.discard(id(parent))
            expanded[id(parent)] = size = sizes.pop()
            if not stack:
                return None
            sizes[-1] += size


def _alias_line(text: str, number: int) -> int:
    """The line of the `number`-th alias (1-based) in the document."""
    seen = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            seen += 1
            if seen == number:
                return event.start_mark.line + 1
    return 1


_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def plain(node: yaml.Node | None) -> Any:
    """Convert a node (and its children) into plain Python values."""
    if node is None:
        return None
    try:
        return _CONSTRUCTOR.construct_object(node, deep=True)
    finally:
        _CONSTRUCTOR.constructed_objects.clear()
        _CONSTRUCTOR.recursive_objects.clear()


class Mapping:
    """A YAML mapping read field by field; unknown keys are reported when checked."""

    def __init__(self, node: yaml.Node, path: str, problems: Problems) -> None:
        self.node = node
        self.path = path
        self.problems = problems
        self.keys: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in self.keys:
                problems.add(key_node, self.sub(key), "duplicate key")
            self.keys[key] = (key_node, value_node)
        self.read: set[str] = set()

    @classmethod
    def of(cls, node: yaml.Node | None, path: str, problems: Problems) -> Mapping | None:
        if not isinstance(node, yaml.MappingNode):
            problems.add(node, path, "must be a mapping")
            return None
        return cls(node, path, problems)

    def sub(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    @property
    def line(self) -> int:
        return self.node.start_mark.line + 1

    def has(self, key: str) -> bool:
        return key in self.keys

    def node_of(self, key: str) -> yaml.Node | None:
        self.read.add(key)
        pair = self.keys.get(key)
        return pair[1] if pair else None

    def line_of(self, key: str) -> int:
        pair = self.keys.get(key)
        return pair[1].start_mark.line + 1 if pair else self.line

    def get(self, key: str, kind: type[T] | tuple[type, ...], *, required: bool = False,
            default: Any = None, check: Callable[[Any], str | None] | None = None) -> Any:
        """A scalar (or plain) value of the given Python type, or the default."""
        node = self.node_of(key)
        if node is None:
            if required:
                self.problems.add(self.node, self.sub(key), "required field is missing")
            return default
        value = plain(node)
        if value is None and not required:
            return default
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # YAML ints are valid floats; bools are not ints here.
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if not ok and float in kinds and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            names = " or ".join(k.__name__ for k in kinds)
            self.problems.add(node, self.sub(key), f"must be {names}, not {type(value).__name__}")
            return default
        if isinstance(value, str) and required and not value.strip():
            self.problems.add(node, self.sub(key), "must not be empty")
            return default
        if check is not None:
            message = check(value)
            if message:
                self.problems.add(node, self.sub(key), message)
                return default
        return value

    def mapping(self, key: str, *, required: bool = False) -> Mapping | None:
        node = self.node_of(key)
        if node is None:
            if required:
                self.problems.add(self.node, self.sub(key), "required field is missing")
            return None
        return Mapping.of(node, self.sub(key), self.problems)

    def items(self, key: str, *, required: bool = False) -> Iterator[tuple[str, yaml.Node]]:
        """(path, node) for each entry of a list field."""
        node = self.node_of(key)
        if node is None:
            if required:
                self.problems.add(self.node, self.sub(key), "required field is missing")
            return
        if not isinstance(node, yaml.SequenceNode):
            self.problems.add(node, self.sub(key), "must be a list")
            return
        if required and not node.value:
            self.problems.add(node, self.sub(key), "must not be empty")
        for i, child in enumerate(node.value):
            yield f"{self.sub(key)}[{i}]", child

    def strings(self, key: str, *, required: bool = False) -> tuple[str, ...]:
        out: list[str] = []
        for path, child in self.items(key, required=required):
            if isinstance(child, yaml.ScalarNode) and isinstance(plain(child), str):
                out.append(plain(child))
            else:
                self.problems.add(child, path, "must be a string")
        return tuple(out)

    def done(self, allowed: tuple[str, ...] | None = None) -> None:
        """Report every key that nothing read (or that is not in `allowed`)."""
        for key, (key_node, _) in self.keys.items():
            known = key in self.read if allowed is None else key in allowed
            if not known:
                self.problems.add(key_node, self.sub(key), "unknown field")
