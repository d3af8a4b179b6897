"""Read-only policy: the `--read-only` flag, or `read_only = true` for a profile in config.toml.

    # ~/.config/warroom/config.toml (the XDG config dir)
    read_only = false            # every profile
    [profiles.prod]
    read_only = true             # never change anything through profile "prod"
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from warroom.errors import UserError


def config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("warroom")) / "config.toml"


def load_config(path: Path | None = None) -> dict[str, Any]:
    """The parsed config file, or {} when there is none; a broken file is a UserError."""
    path = path or config_path()
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"{path}: cannot read the config file: {exc}") from exc


def profile_name(profile: str | None) -> str:
    return profile or os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE") or "default"


def is_read_only(flag: bool | None, profile: str | None, config: dict[str, Any] | None = None) -> bool:
    """True when the flag says so, or the config does for this profile (or for every profile)."""
    if flag:
        return True
    config = load_config() if config is None else config
    section = config.get("profiles", {}).get(profile_name(profile), {})
    value = section.get("read_only", config.get("read_only", False)) if isinstance(section, dict) else False
    if not isinstance(value, bool):
        raise UserError(f"{config_path()}: read_only must be true or false")
    return value
