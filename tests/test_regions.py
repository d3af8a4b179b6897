"""Several regions in line mode, against moto's server (which keeps regions apart): `check`,
`doctor` and `changes` read every region given, each result labelled with its region."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests import awsseed as seed
from tests.test_check_cli import TRACING, assert_one_line_error, warroom
from warroom.aws.discovery import discover
from warroom.aws.permissions import READ_ACTIONS
from warroom.aws.session import AwsOptions, AwsSession
from warroom.demo.server import MotoServer

EAST, WEST = "us-east-1", "eu-west-1"


def client(moto: MotoServer, service: str, region: str) -> Any:
    return boto3.client(service, endpoint_url=moto.endpoint, region_name=region)


def function(moto: MotoServer, name: str, region: str) -> None:
    """An untraced function (the tracing playbook's finding) in `region`."""
    client(moto, "lambda", region).create_function(
        FunctionName=name, Runtime="python3.12", Role=seed.lambda_role(moto.endpoint), Handler="handler.handler",
        Code={"ZipFile": seed.handler_zip()}, Timeout=30)


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str | None]:
    """A config dir of the test's own and the tracing playbook: the environment for `warroom`."""
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "cli-tracing.yaml").write_text(TRACING)
    (tmp_path / "warroom").mkdir()
    return {"XDG_CONFIG_HOME": str(tmp_path), "WARROOM_PLAYBOOKS": str(tmp_path / "playbooks")}


@pytest.fixture
def two_regions(moto: MotoServer) -> MotoServer:
    function(moto, "mr-east", EAST)
    function(moto, "mr-west", WEST)
    return moto


def test_check_reads_every_region_given_and_labels_each_finding(
        two_regions: MotoServer, home: dict[str, str | None]) -> None:
    base = ["--endpoint-url", two_regions.endpoint, "check", "--prefix", "mr-"]
    as_json = warroom(*base, "--json", "--region", f"{EAST},{WEST}", env=home)
    assert as_json.returncode == 1, as_json.stderr
    found = {(f["resource"], f["region"]) for f in map(json.loads, as_json.stdout.splitlines())}
    assert found == {("mr-east", EAST), ("mr-west", WEST)}

    text = warroom(*base, "--region", EAST, "--region", WEST, env=home)  # repeated, after the command
    assert text.returncode == 1, text.stderr
    assert f"{EAST} function mr-east" in text.stdout and f"{WEST} function mr-west" in text.stdout
    assert f"in 2 regions ({EAST}, {WEST})" in text.stdout

    one = warroom(*base, "--region", WEST, env=home)
    assert "function mr-west" in one.stdout and "mr-east" not in one.stdout
    assert WEST not in one.stdout  # one region: no need to say which


def test_the_config_file_gives_the_profiles_regions_and_scope(
        two_regions: MotoServer, home: dict[str, str | None]) -> None:
    config = Path(str(home["XDG_CONFIG_HOME"])) / "warroom" / "config.toml"
    config.write_text(f'prefix = "mr-"\n[profiles.default]\nregion = ["{EAST}", "{WEST}"]\n')
    result = warroom("--endpoint-url", two_regions.endpoint, "check", "--json", env=home)
    assert result.returncode == 1, result.stderr
    assert {(f["resource"], f["region"]) for f in map(json.loads, result.stdout.splitlines())} == {
        ("mr-east", EAST), ("mr-west", WEST)}


def test_a_broken_config_file_is_one_line_at_start(moto: MotoServer, home: dict[str, str | None]) -> None:
    config = Path(str(home["XDG_CONFIG_HOME"])) / "warroom" / "config.toml"
    config.write_text('[profiles.default]\nregion = ["us-east-1"]\nread_olny = true\n')
    result = warroom("--endpoint-url", moto.endpoint, "check", env=home)
    assert_one_line_error(result, f"{config}:3: profiles.default.read_olny: unknown setting")


def test_a_region_that_fails_is_named(moto: MotoServer, home: dict[str, str | None]) -> None:
    result = warroom("--endpoint-url", moto.endpoint, "--region", f"{EAST},not a region", "check", env=home)
    assert_one_line_error(result, "not a region:")


async def test_discovery_labels_resources_and_lists_only_its_regions_buckets(moto: MotoServer) -> None:
    client(moto, "s3", EAST).create_bucket(Bucket="mr-east-bucket")
    client(moto, "s3", WEST).create_bucket(Bucket="mr-west-bucket",
                                           CreateBucketConfiguration={"LocationConstraint": WEST})
    function(moto, "mr-west", WEST)
    found = {}
    for region in (EAST, WEST):
        async with AwsSession(AwsOptions(endpoint_url=moto.endpoint, region=region)) as session:
            inventory = await discover(session, ("mr-",), services=["s3", "lambda"])
        found[region] = {(r.kind, r.name, r.region) for r in inventory.resources}
    assert found[EAST] == {("bucket", "mr-east-bucket", EAST)}
    assert found[WEST] == {("bucket", "mr-west-bucket", WEST), ("function", "mr-west", WEST)}


def test_doctor_checks_each_region(moto: MotoServer, home: dict[str, str | None]) -> None:
    moto.faults(deny=["lambda:ListFunctions"])
    base = ["--endpoint-url", moto.endpoint, "--region", f"{EAST},{WEST}", "doctor"]
    result = warroom(*base, "--json", env=home)
    assert result.returncode == 1, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    for region in (EAST, WEST):
        mine = {r["action"]: r["verdict"] for r in rows if r["region"] == region}
        assert list(mine) == [a.name for a in READ_ACTIONS]
        assert mine["lambda:ListFunctions"] == "denied" and mine["logs:DescribeLogGroups"] == "allowed"
    text = warroom(*base, env=home).stdout.splitlines()
    assert any(line.split()[:3] == [WEST, "lambda:ListFunctions", "denied"] for line in text), text
    assert "2 denied" in text[-1]


def test_changes_come_from_every_region_once_each(two_regions: MotoServer, home: dict[str, str | None]) -> None:
    client(two_regions, "lambda", WEST).update_function_configuration(FunctionName="mr-west", Timeout=10)
    base = ["--endpoint-url", two_regions.endpoint, "--region", f"{EAST},{WEST}", "changes", "--since", "10m"]
    result = warroom(*base, "--json", env=home)
    assert result.returncode == 0, result.stderr
    found = [json.loads(line) for line in result.stdout.splitlines()]
    update = [c for c in found if c["event"] == "UpdateFunctionConfiguration"]
    assert [(c["resource"], c["region"]) for c in update] == [("mr-west", WEST)]
    assert update[0]["summary"] == "Timeout 30 -> 10"
    created = sorted((c["resource"], c["region"]) for c in found if c["event"] == "CreateFunction")
    assert created == [("mr-east", EAST), ("mr-west", WEST)]
    # IAM is global: its changes are read in one region, not once per region.
    roles = [c for c in found if c["event"] == "CreateRole"]
    assert len(roles) == 1 and roles[0]["region"] == EAST
    text = warroom(*base, env=home).stdout
    assert f" {WEST} cloudtrail" in text and "UpdateFunctionConfiguration mr-west" in text
