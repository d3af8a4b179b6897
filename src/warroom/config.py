"""One frozen configuration, built once at start from the command line, the config file
and the environment, in that order of precedence.

    # ~/.config/warroom/config.toml (the XDG config dir)
    read_only = false                 # every profile
    [profiles.prod]
    read_only = true                  # never change anything through profile "prod"
    region = ["us-east-1", "eu-west-1"]
    stack = ["payments"]              # the default scope for this profile
    tag = ["app=payments"]
    prefix = ["pay-"]

A broken file is reported at start as `FILE:LINE: setting: problem`.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from warroom.aws.scope import Scope, parse_tag
from warroom.aws.session import AwsOptions
from warroom.errors import UserError

_LISTS = ("region", "stack", "tag", "prefix", "playbooks")
SETTINGS = ("read_only", *_LISTS)


def config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("warroom")) / "config.toml"


@dataclass(frozen=True)
class Settings:
    """What every command runs with; nothing reads argparse or the file after this."""

    profile: str | None = None
    regions: tuple[str, ...] = ()
    endpoint_url: str | None = None
    read_only: bool = False
    scope: Scope = field(default_factory=Scope)
    playbook_dirs: tuple[str, ...] = ()    # the file's, then --playbooks; WARROOM_PLAYBOOKS goes beneath
    audit_log: str | None = None

    @property
    def profile_name(self) -> str:
        return self.profile or "default"

    def aws(self, region: str | None = None) -> AwsOptions:
        """AwsOptions for one region (the first one by default)."""
        return AwsOptions(profile=self.profile, region=region or (self.regions[0] if self.regions else None),
                          endpoint_url=self.endpoint_url)

    def regional(self) -> tuple[AwsOptions, ...]:
        """AwsOptions for each region given; one for the profile's own region when none was."""
        return tuple(self.aws(region) for region in self.regions) or (self.aws(),)


def build(args: argparse.Namespace, environ: Mapping[str, str] | None = None,
          path: Path | None = None) -> Settings:
    """The settings for this run; a UserError names a broken config file's line."""
    env = os.environ if environ is None else environ
    profile = getattr(args, "profile", None) or env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE") or None
    section = _section(read_file(path or config_path()), profile)

    def listed(option: str, key: str, default: bool = True) -> tuple[str, ...]:
        given = [v for item in getattr(args, option, None) or () for v in str(item).split(",") if v.strip()]
        return tuple(v.strip() for v in given) or (tuple(section.get(key, ())) if default else ())

    region_env = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    regions = listed("region", "region") or ((region_env,) if region_env else ())
    # A scope on the command line replaces the profile's default one as a whole.
    default = not any(getattr(args, option, None) for option in ("prefix", "stack", "tag"))
    scope = Scope(prefixes=listed("prefix", "prefix", default), stacks=listed("stack", "stack", default),
                  tags=tuple(parse_tag(t) for t in listed("tag", "tag", default)))
    # Later directories win; the catalog reads WARROOM_PLAYBOOKS itself, beneath these.
    dirs = [*section.get("playbooks", ()), *(getattr(args, "playbooks", None) or ())]
    return Settings(
        profile=profile, regions=tuple(dict.fromkeys(regions)),
        endpoint_url=getattr(args, "endpoint_url", None) or env.get("AWS_ENDPOINT_URL") or None,
        read_only=bool(getattr(args, "read_only", None)) or section.get("read_only", False),
        scope=scope, playbook_dirs=tuple(dict.fromkeys(dirs)), audit_log=getattr(args, "audit_log", None))


def with_profile(settings: Settings, profile: str | None, read_only_flag: bool | None = None,
                 path: Path | None = None) -> Settings:
    """The settings through another AWS profile (the console's `:profile`): the regions and
    scope in use stay, read-only is the flag or the config file's for that profile."""
    section = _section(read_file(path or config_path()), profile)
    return replace(settings, profile=profile,
                   read_only=bool(read_only_flag) or section.get("read_only", False))


def _section(file: dict[str, Any], profile: str | None) -> dict[str, Any]:
    """The file's top-level settings with the profile's table over them."""
    return {**{k: v for k, v in file.items() if k != "profiles"},
            **file.get("profiles", {}).get(profile or "default", {})}


def add_scope_options(parser: argparse.ArgumentParser) -> None:
    """--prefix, --stack, --tag: the scope's criteria (a resource matching any is in scope);
    given, they replace the profile's default scope from the config file."""
    parser.add_argument("--prefix", action="append", default=[], metavar="P",
                        help="resources whose name starts with P (repeatable)")
    parser.add_argument("--stack", action="append", default=[], metavar="NAME",
                        help="the resources of CloudFormation stack NAME, nested stacks included (repeatable)")
    parser.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                        help="resources tagged KEY=VALUE (repeatable)")


def read_file(path: Path) -> dict[str, Any]:
    """The checked config file ({} when there is none)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the config file: {exc}") from exc
    import tomllib  # here: most runs have no config file, and its parser costs start-up

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = found.group(1) if found else "1"
        raise UserError(f"{path}:{line}: {str(exc).split(' (at line')[0]}") from None
    _check(data, "", text, path)
    for name, section in (data.get("profiles") or {}).items():
        if not isinstance(section, dict):
            raise UserError(f"{path}:{_line(text, 'profiles', name)}: profiles.{name}: must be a table")
        _check(section, f"profiles.{name}", text, path)
    return data


def _check(section: dict[str, Any], table: str, text: str, path: Path) -> None:
    for key, value in section.items():
        if table == "" and key == "profiles":
            if not isinstance(value, dict):
                raise UserError(f"{path}:{_line(text, '', key)}: profiles: must be a table of profiles")
            continue
        where = f"{path}:{_line(text, table, key)}: {f'{table}.' if table else ''}{key}"
        if key not in SETTINGS:
            raise UserError(f"{where}: unknown setting (known: {', '.join(SETTINGS)})")
        if key == "read_only" and not isinstance(value, bool):
            raise UserError(f"{where}: must be true or false")
        if key in _LISTS:
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise UserError(f"{where}: must be a string or a list of strings")
            section[key] = [i.strip() for item in items for i in item.split(",") if i.strip()]
            if key == "tag":
                for item in section[key]:
                    try:
                        parse_tag(item)
                    except UserError:
                        raise UserError(f"{where}: {item!r} is not KEY=VALUE") from None


def _line(text: str, table: str, key: str) -> int:
    """The line where `key` is set inside `[table]` (or `[profiles.key]` itself); 1 if not found."""
    current = ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        header = re.fullmatch(r"\[\s*([^\]]+?)\s*\]", line)
        if header:
            current = header.group(1).replace('"', "").replace(" ", "")
            if table == "profiles" and current == f"profiles.{key}":
                return number
            continue
        if current == table and re.match(rf'"?{re.escape(key)}"?\s*=', line):
            return number
    return 1
