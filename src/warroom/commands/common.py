"""Helpers shared by subcommands."""

from __future__ import annotations

import argparse
import sys

from warroom.playbook.cache import cached_catalog
from warroom.playbook.catalog import Catalog


def catalog(args: argparse.Namespace) -> Catalog:
    """The effective playbooks; each broken playbook is reported on stderr and skipped."""
    result = cached_catalog(args.settings.playbook_dirs)
    for problem in result.problems:
        print(f"warroom: skipped: {problem}", file=sys.stderr)
    if getattr(args, "demo_world", False):  # the demo's own console knows its world's names
        from warroom.demo.defaults import with_demo_defaults

        return with_demo_defaults(result)
    return result
