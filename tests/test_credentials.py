"""Credentials that expire mid-session: seen on any call, the renewal command for this profile,
the chain re-read until new ones work, and `warroom check` ending on one line."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from warroom.aws.credentials import OTHER_TOOLS, CredentialState, expiry_reason, renewal_hint
from warroom.aws.session import AwsOptions, AwsSession
from warroom.demo.server import MotoServer
from warroom.errors import UserError

from tests.runner_support import boto, seed_function

SSO_CONFIG = textwrap.dedent("""\
    [profile night]
    sso_session = corp
    sso_account_id = 123456789012
    sso_role_name = OnCall
    region = us-east-1

    [sso-session corp]
    sso_start_url = https://corp.awsapps.com/start
    sso_region = us-east-1

    [profile deploy]
    role_arn = arn:aws:iam::123456789012:role/deploy
    source_profile = night

    [profile legacy]
    sso_start_url = https://corp.awsapps.com/start
    sso_region = us-east-1
    sso_account_id = 123456789012
    sso_role_name = OnCall

    [profile keys]
    region = us-east-1
    """)


def session(moto: MotoServer, profile: str | None = None) -> AwsSession:
    return AwsSession(AwsOptions(profile=profile, endpoint_url=moto.endpoint, region="us-east-1"))


@pytest.fixture
def sso_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "config"
    config.write_text(SSO_CONFIG)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("HOME", str(tmp_path))  # an empty ~/.aws/sso/cache: no SSO token
    return config


async def test_expiry_is_seen_then_the_chain_is_reread_until_it_works(moto: MotoServer) -> None:
    s = session(moto)
    states: list[CredentialState] = []
    retried = asyncio.Event()

    def listener(state: CredentialState) -> None:
        states.append(state)
        if state.attempts >= 2:
            retried.set()

    s.credentials.listen(listener)
    async with s:
        await s.identity()
        moto.faults(expired=True)
        with pytest.raises(Exception) as failed:
            await (await s.client("lambda")).list_functions()
        assert expiry_reason(failed.value) == "ExpiredTokenException"
        watch = s.credentials
        assert watch.known_expired and watch.state.reason == "ExpiredTokenException"
        assert watch.state.hint == OTHER_TOOLS
        assert watch.state.line.startswith("AWS credentials expired at ")
        assert watch.state.line.endswith(f"(ExpiredTokenException): {OTHER_TOOLS}")

        # A runner awaits this before a change: it does not return while they are expired.
        waiter = asyncio.create_task(watch.wait_until_valid(every=0.01))
        await retried.wait()
        assert not waiter.done() and watch.known_expired
        moto.faults()
        state = await waiter
        assert not state.expired and state.recovered_at is not None
        assert not watch.known_expired and watch.state.line.startswith("AWS credentials renewed at ")
        assert [st.expired for st in states][0] is True and states[-1] == state
        await (await s.client("lambda")).list_functions()
        assert (await watch.wait_until_valid()) is state  # valid: returns at once


async def test_renewal_reads_new_keys_from_the_credentials_file(moto: MotoServer, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    iam = boto(moto.endpoint, "iam")
    iam.create_user(UserName="night-shift")
    key = iam.create_access_key(UserName="night-shift")["AccessKey"]
    credentials = tmp_path / "credentials"
    credentials.write_text("[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    async with session(moto) as s:
        assert (await s.identity())["Arn"].endswith(":user/moto")
        old = await s.client("sts")
        moto.faults(expired=True)
        with pytest.raises(UserError, match="expired"):
            await s.identity()
        # What saml2aws or `aws configure` does: new keys in the file.
        credentials.write_text(f"[default]\naws_access_key_id = {key['AccessKeyId']}\n"
                               f"aws_secret_access_key = {key['SecretAccessKey']}\n")
        moto.faults()
        await s.credentials.wait_until_valid(every=0.01)
        assert await s.client("sts") is not old
        assert (await s.identity())["Arn"].endswith(":user/night-shift")


def test_sync_clients_report_expiry_too(moto: MotoServer) -> None:
    s = session(moto)
    moto.faults(expired=True)
    with pytest.raises(ClientError):
        s.sync_client("sts").get_caller_identity()
    assert s.credentials.known_expired and s.credentials.state.reason == "ExpiredTokenException"


def test_the_hint_names_this_profiles_sso_login(sso_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert renewal_hint(AwsOptions(profile="night")) == "run `aws sso login --profile night`"
    assert renewal_hint(AwsOptions(profile="legacy")) == "run `aws sso login --profile legacy`"
    # A role assumed from an SSO profile: that profile logs in.
    assert renewal_hint(AwsOptions(profile="deploy")) == "run `aws sso login --profile night`"
    assert renewal_hint(AwsOptions(profile="keys")) == OTHER_TOOLS
    assert renewal_hint(AwsOptions()) == OTHER_TOOLS
    monkeypatch.setenv("AWS_PROFILE", "night")
    assert renewal_hint(AwsOptions()) == "run `aws sso login --profile night`"
    monkeypatch.delenv("AWS_PROFILE")
    sso_config.write_text("[default]\nsso_session = corp\n[sso-session corp]\nsso_start_url = https://x\n")
    assert renewal_hint(AwsOptions()) == "run `aws sso login`"
    sso_config.write_text("[profile broken\n")
    assert renewal_hint(AwsOptions(profile="night")) == OTHER_TOOLS
    assert renewal_hint(AwsOptions(profile="night"), sso=True) == "run `aws sso login --profile night`"


async def test_an_sso_token_past_its_end_is_an_expiry_with_the_login_hint(moto: MotoServer,
                                                                          sso_config: Path) -> None:
    async with session(moto, profile="night") as s:
        with pytest.raises(UserError, match=r"aws sso login --profile night"):
            await s.identity()
        assert s.credentials.known_expired
        assert s.credentials.state.hint == "run `aws sso login --profile night`"
        assert s.credentials.state.reason in {"TokenRetrievalError", "SSOTokenLoadError",
                                              "UnauthorizedSSOTokenError"}


def test_a_rejection_means_revoked_only_after_the_credentials_worked() -> None:
    rejected = ClientError({"Error": {"Code": "InvalidClientTokenId", "Message": "invalid"}}, "ListFunctions")
    assert expiry_reason(rejected) is None
    assert expiry_reason(rejected, worked=True) == "InvalidClientTokenId"
    state = CredentialState(True, 0.0, "InvalidClientTokenId", OTHER_TOOLS)
    assert "are no longer accepted" in state.line and state.line.endswith(OTHER_TOOLS)
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "ListFunctions")
    assert expiry_reason(denied, worked=True) is None


def warroom(moto: MotoServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "warroom", "--endpoint-url", moto.endpoint,
                           "--region", "us-east-1", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "NO_COLOR": "1"})


def test_check_says_how_to_renew_and_exits_2(moto: MotoServer, sso_config: Path) -> None:
    moto.faults(expired=True)
    expired = warroom(moto, "check")
    assert expired.returncode == 2 and expired.stdout == ""
    assert expired.stderr == ("warroom: the AWS credentials have expired (ExpiredTokenException): "
                              f"{OTHER_TOOLS}\n")
    moto.faults()
    sso = warroom(moto, "--profile", "night", "check")
    assert sso.returncode == 2 and sso.stdout == ""
    assert sso.stderr.startswith("warroom: the SSO session has expired: run `aws sso login --profile night`")
    assert sso.stderr.count("\n") == 1


async def test_credentials_expiring_during_a_check_end_it_with_the_hint(moto: MotoServer) -> None:
    from warroom.aws.scope import Scope
    from warroom.commands.check import check_once
    from warroom.playbook.catalog import load_catalog

    boto(moto.endpoint, "logs").create_log_group(logGroupName="/aws/lambda/night-fn")
    # A function, so that reads about it must follow the listing whatever the order the
    # check's other reads answer in (without one, the listing could be the last call).
    seed_function(moto.endpoint, "night-fn")
    catalog = load_catalog([])
    async with session(moto) as s:
        await s.identity()
        # They expire the moment the functions' listing has answered: the rest of the check fails.
        lam = await s.client("lambda")  # the cached client discovery uses
        lam.meta.events.register("after-call.lambda.ListFunctions", lambda **_: moto.faults(expired=True))
        with pytest.raises(UserError) as ended:
            await check_once(s, catalog, Scope())
    assert str(ended.value).startswith("AWS credentials expired at ")
    assert str(ended.value).endswith(f"(ExpiredTokenException): {OTHER_TOOLS}")
