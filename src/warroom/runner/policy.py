"""Read-only policy: the `--read-only` flag, or `read_only = true` for the profile (or every
profile) in the config file, which `warroom.config` reads."""

from __future__ import annotations

import argparse


def is_read_only(flag: bool | None, profile: str | None) -> bool:
    """True when the flag says so, or the config file does for this profile or for every one."""
    from warroom import config

    return config.build(argparse.Namespace(read_only=flag, profile=profile)).read_only
