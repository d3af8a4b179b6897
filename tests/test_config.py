"""One configuration from the command line, the config file and the environment."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from warroom.config import build
from warroom.errors import UserError

FILE = """\
read_only = false
prefix = "team-"

[profiles.prod]
read_only = true
region = ["us-east-1", "eu-west-1"]
stack = ["payments"]
tag = ["app=payments"]
"""


def args(**given: object) -> argparse.Namespace:
    return argparse.Namespace(**{"profile": None, "region": None, "endpoint_url": None, "read_only": None,
                                 "playbooks": [], "audit_log": None, "prefix": [], "stack": [], "tag": [],
                                 **given})


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_a_profile_section_sets_its_scope_regions_and_policy(tmp_path: Path) -> None:
    path = write(tmp_path, FILE)
    prod = build(args(profile="prod"), {}, path)
    assert prod.read_only and prod.regions == ("us-east-1", "eu-west-1")
    assert prod.scope.stacks == ("payments",) and prod.scope.tags == (("app", "payments"),)
    assert prod.scope.prefixes == ("team-",)  # from the top level
    dev = build(args(), {"AWS_REGION": "eu-central-1"}, path)
    assert not dev.read_only and dev.regions == ("eu-central-1",) and dev.scope.stacks == ()


def test_the_command_line_wins_and_takes_comma_lists(tmp_path: Path) -> None:
    path = write(tmp_path, FILE)
    s = build(args(profile="prod", region=["us-west-2,ap-south-1"], stack=["other"]), {}, path)
    assert s.regions == ("us-west-2", "ap-south-1") and s.scope.stacks == ("other",)
    assert build(args(read_only=True), {}, path).read_only
    assert build(args(), {"AWS_PROFILE": "prod"}, path).profile == "prod"


@pytest.mark.parametrize("text, where", [
    ("read_only = 'yes'\n", ":1: read_only: must be true or false"),
    ("\n[profiles.prod]\nregoin = 'x'\n", ":3: profiles.prod.regoin: unknown setting"),
    ("[profiles.prod]\ntag = ['app']\n", ":2: profiles.prod.tag: 'app' is not KEY=VALUE"),
    ("read_only = \n", ":1: "),
])
def test_a_broken_file_is_one_line_naming_file_and_line(tmp_path: Path, text: str, where: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(UserError) as caught:
        build(args(profile="prod"), {}, path)
    message = str(caught.value)
    assert message.startswith(f"{path}{where}") and "\n" not in message, message


def test_no_file_is_no_settings(tmp_path: Path) -> None:
    s = build(args(), {}, tmp_path / "absent.toml")
    assert not s.read_only and s.scope.prefixes == () and s.regions == ()


def test_a_scope_on_the_command_line_replaces_the_profiles_default_one(tmp_path: Path) -> None:
    path = write(tmp_path, FILE)
    s = build(args(profile="prod", prefix=["pay-"]), {}, path)
    assert s.scope.prefixes == ("pay-",) and s.scope.stacks == () and s.scope.tags == ()


def test_regions_given_twice_are_read_once_and_playbook_dirs_layer_file_then_command_line(
        tmp_path: Path) -> None:
    path = write(tmp_path, 'playbooks = ["team", "shared"]\n')
    s = build(args(region=["us-east-1", "eu-west-1,us-east-1"], playbooks=["mine"]), {}, path)
    assert s.regions == ("us-east-1", "eu-west-1")
    assert s.playbook_dirs == ("team", "shared", "mine")  # later ones win
    assert [o.region for o in s.regional()] == ["us-east-1", "eu-west-1"]
    assert [o.region for o in build(args(), {}, path).regional()] == [None]  # the profile's own


def test_the_readme_example_is_a_valid_config_file(tmp_path: Path) -> None:
    readme = Path(__file__).resolve().parent.parent.joinpath("README.md").read_text(encoding="utf-8")
    path = write(tmp_path, readme.split("```toml\n", 1)[1].split("```", 1)[0])
    prod = build(args(profile="prod"), {}, path)
    assert prod.read_only and prod.regions == ("us-east-1", "eu-west-1") and prod.scope.stacks == ("payments",)
