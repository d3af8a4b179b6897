"""Where playbooks live and how layers override each other."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from warroom.playbook.loader import CallChecker
    from warroom.playbook.model import Playbook
    from warroom.playbook.nodes import Problem

ENV_VAR = "WARROOM_PLAYBOOKS"
SUFFIXES = (".yaml", ".yml")


def data_dir(name: str) -> Path:
    """A data folder shipped with warroom (`playbooks`, `styles`), installed or in a checkout."""
    here = Path(__file__).resolve().parent.parent
    installed = here / "_data" / name
    if installed.is_dir():
        return installed
    return here.parent.parent / name


def builtin_dir() -> Path:
    return data_dir("playbooks")


def user_dirs(cli_dirs: Sequence[str] = ()) -> list[Path]:
    """Directories from WARROOM_PLAYBOOKS, then --playbooks; later ones win."""
    env = [p for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
    return [Path(p) for p in (*env, *cli_dirs)]


def layers(cli_dirs: Sequence[str] = (), include_builtin: bool = True) -> list[Path]:
    """The playbook directories in the order they override each other."""
    return ([builtin_dir()] if include_builtin else []) + user_dirs(cli_dirs)


def files_in(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file()))
        else:
            out.append(path)
    return out


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)


@dataclass
class Catalog:
    """The effective set of playbooks by id, plus every problem met while loading."""

    playbooks: dict[str, Playbook] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.playbooks.values())

    def __len__(self) -> int:
        return len(self.playbooks)

    def get(self, pid: str) -> Playbook | None:
        return self.playbooks.get(pid)


def load_layer(paths: Iterable[Path], check_call: CallChecker | None = None) -> Catalog:
    """Load one layer; a duplicate id inside the layer is a problem, the first one stays."""
    # YAML and the loader stay off a cached scan's path (playbook/cache.py).
    from warroom.playbook.loader import load_file
    from warroom.playbook.nodes import Problem

    layer = Catalog()
    for path in files_in(paths):
        display = _display(path)
        if not path.exists():
            layer.problems.append(Problem(display, 1, "", "no such file or directory"))
            continue
        playbook, problems = load_file(path, check_call, display)
        layer.problems.extend(problems)
        if playbook is None:
            continue
        if playbook.id in layer.playbooks:
            first = layer.playbooks[playbook.id].path
            layer.problems.append(Problem(display, 1, "id", f"duplicate id '{playbook.id}' (also in {first})"))
            continue
        layer.playbooks[playbook.id] = playbook
    return layer


def load_catalog(cli_dirs: Sequence[str] = (), check_call: CallChecker | None = None,
                 include_builtin: bool = True) -> Catalog:
    """Built-in playbooks overlaid by each user directory in turn."""
    from warroom.playbook.nodes import Problem

    catalog = Catalog()
    for directory in layers(cli_dirs, include_builtin):
        if not directory.is_dir():
            catalog.problems.append(Problem(_display(directory), 1, "", "playbook directory not found"))
            continue
        layer = load_layer([directory], check_call)
        catalog.problems.extend(layer.problems)
        catalog.playbooks.update(layer.playbooks)
    return catalog
