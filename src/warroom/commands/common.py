"""Helpers shared by subcommands."""

from __future__ import annotations

import argparse
import sys

from warroom.playbook.catalog import Catalog, load_catalog


def catalog(args: argparse.Namespace) -> Catalog:
    """The effective playbooks; each broken playbook is reported on stderr and skipped."""
    result = load_catalog(getattr(args, "playbooks", []) or [])
    for problem in result.problems:
        print(f"warroom: skipped: {problem}", file=sys.stderr)
    return result
