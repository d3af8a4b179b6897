"""`warroom doctor` and the offline account's denied permissions, against moto's server."""

from __future__ import annotations

import json

import boto3
import botocore.exceptions
import pytest

from tests.test_check_cli import warroom
from warroom.aws.permissions import READ_ACTIONS, policy_document, principal_arn
from warroom.demo.server import MotoServer


def _env(moto: MotoServer) -> dict[str, str | None]:
    return {"AWS_ENDPOINT_URL": moto.endpoint}


def test_every_read_is_allowed_on_an_unrestricted_identity(moto: MotoServer) -> None:
    result = warroom("doctor", "--json", env=_env(moto))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["action"] for r in rows] == [a.name for a in READ_ACTIONS]
    verdicts = {r["action"]: r["verdict"] for r in rows}
    # Starting a Live Tail session costs money, and the simulator cannot be probed without
    # calling it: never probed, so unknown without the simulator (moto has none).
    assert verdicts.pop("logs:StartLiveTail") == "unknown"
    assert verdicts.pop("iam:SimulatePrincipalPolicy") == "unknown"
    assert set(verdicts.values()) == {"allowed"}, verdicts


def test_denied_reads_are_named_and_the_rest_still_checked(moto: MotoServer) -> None:
    moto.faults(deny=["logs:FilterLogEvents", "cloudwatch:GetMetricData", "lambda:ListFunctions"])
    result = warroom("doctor", "--json", env=_env(moto))
    assert result.returncode == 1, result.stderr
    verdicts = {json.loads(line)["action"]: json.loads(line)["verdict"] for line in result.stdout.splitlines()}
    denied = {a for a, v in verdicts.items() if v == "denied"}
    assert denied == {"logs:FilterLogEvents", "cloudwatch:GetMetricData", "lambda:ListFunctions"}
    assert verdicts["logs:DescribeLogGroups"] == "allowed"
    text = warroom("doctor", env=_env(moto))
    assert "logs:FilterLogEvents" in text.stdout and "denied" in text.stdout
    assert "3 denied" in text.stdout


@pytest.mark.parametrize("client_name, call, kwargs", [
    ("logs", "filter_log_events", {"logGroupName": "g"}),           # JSON protocol
    ("lambda", "list_functions", {}),                               # REST
    ("sns", "list_topics", {}),                                     # query
    ("cloudwatch", "describe_alarms", {}),                          # Smithy RPC v2 CBOR
])
def test_the_deny_fault_answers_access_denied_in_each_protocol(
        moto: MotoServer, client_name: str, call: str, kwargs: dict[str, str]) -> None:
    client = boto3.client(client_name, endpoint_url=moto.endpoint, region_name="us-east-1")
    operation = client.meta.method_to_api_mapping[call]
    moto.faults(deny=[operation])
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        getattr(client, call)(**kwargs)
    assert caught.value.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException")


def test_policy_lists_exactly_the_reads() -> None:
    result = warroom("doctor", "--policy")
    assert result.returncode == 0
    assert json.loads(result.stdout) == policy_document()
    actions = policy_document()["Statement"][0]["Action"]
    assert "logs:StartLiveTail" in actions and not any(a.startswith(("logs:Put", "lambda:Update")) for a in actions)


def test_assumed_role_sessions_are_simulated_as_their_role() -> None:
    assert principal_arn("arn:aws:sts::123456789012:assumed-role/OnCall/alice") == \
        "arn:aws:iam::123456789012:role/OnCall"
    assert principal_arn("arn:aws:iam::123456789012:user/bob") == "arn:aws:iam::123456789012:user/bob"


def test_demo_without_its_extra_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    from warroom import cli

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "moto" else real(name, *a))
    assert cli.main(["demo"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'warroom[demo]'" in err[0]


async def test_a_denied_listing_is_one_warning_naming_the_action(moto: MotoServer) -> None:
    from tests import awsseed as seed
    from warroom.aws.discovery import discover
    from warroom.aws.session import AwsOptions, AwsSession

    seed.function(moto.endpoint, "still-listed")
    moto.faults(deny=["dynamodb:ListTables"])
    async with AwsSession(AwsOptions(endpoint_url=moto.endpoint, region="us-east-1")) as session:
        inventory = await discover(session)
    denied = [w for w in inventory.warnings if "denied" in w]
    assert len(denied) == 1 and denied[0].startswith("dynamodb:ListTables denied")
    assert any(r.name == "still-listed" for r in inventory.resources)
