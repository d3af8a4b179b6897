"""The missing-SSM-parameter playbook: the log lines of every SDK and deploy tool open it, not the
Secrets Manager one, and its diagnose on the account finds the parameters named like the missing one."""

from __future__ import annotations

import boto3
import pytest

from tests.test_fix_cli import env, warroom  # noqa: F401 - the fixture is used by name
from warroom.playbook.catalog import load_catalog
from warroom.playbook.matcher import Matcher


@pytest.mark.parametrize("line,parameter", [
    ("An error occurred (ParameterNotFound) when calling the GetParameter operation: ", None),
    ("Unable to fetch parameters [/orders/db/host] from parameter store for this account.", "/orders/db/host"),
    ("{ ServerlessError: Parameter /orders/stage not found.", "/orders/stage"),
    (("GetParameterError: An error occurred (ParameterNotFound) when calling the GetParameter operation: "
      "Parameter /orders/db-host not found."), "/orders/db-host"),
    # An SSM reference to a missing Secrets Manager secret is the secret's.
    (("ParameterNotFoundException: An error occurred (ParameterNotFound) when referencing Secrets "
      "Manager: Secret aws/reference/secretsmanager/orders-db not found."), "secret"),
])
def test_the_line_opens_the_playbook_of_what_is_missing(line: str, parameter: str | None) -> None:
    found = Matcher(load_catalog()).match(line)
    if parameter == "secret":
        assert found[0].playbook == "secret-not-found"
        return
    assert found[0].playbook == "ssm-parameter-not-found"
    assert found[0].captures.get("parameter") == parameter


def test_diagnose_names_the_parameters_that_do_exist(moto, env) -> None:  # noqa: F811
    ssm = boto3.client("ssm", endpoint_url=moto.endpoint, region_name="us-east-1")
    ssm.put_parameter(Name="/orders/prod/db-host", Type="String", Value="db.internal")
    done = warroom(env, "fix", "ssm-parameter-not-found", "--param", "parameter=/orders/prod",
                   stdin="n\nn\n", endpoint=moto.endpoint)
    assert "ParameterNotFound: Parameter /orders/prod not found." in done.stdout, done.stdout + done.stderr
    assert '"/orders/prod/db-host"' in done.stdout and "db.internal" not in done.stdout
    # The fix is manual: nothing was created.
    assert [p["Name"] for p in ssm.describe_parameters()["Parameters"]] == ["/orders/prod/db-host"]
