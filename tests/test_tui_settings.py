"""`:scope`, `:region` and `:profile` in the console, against moto's server (which keeps
regions apart): the buffers stay, the sources restart on the new settings, the status bar
says where the console now looks. And a stack scope over several regions warns once."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from textual.widgets import Input

from tests.test_scope import seed_stacks
from tests.tui_helpers import catalog, screen_text, until
from warroom import config
from warroom.aws.regions import RegionalChecker
from warroom.aws.scope import Scope
from warroom.aws.session import AwsSession
from warroom.demo.server import MotoServer
from warroom.errors import UserError
from warroom.incident.records import Record
from warroom.incident.store import IncidentStore
from warroom.tui.app import ConsoleApp, target_of
from warroom.tui.command import parse_regions, parse_scope
from warroom.tui.sources import Sources

EAST, WEST = "us-east-1", "eu-west-1"


def table(moto: MotoServer, name: str, region: str) -> None:
    boto3.client("dynamodb", endpoint_url=moto.endpoint, region_name=region).create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])


def console(moto: MotoServer, **settings: Any) -> ConsoleApp:
    """The console as `warroom console` makes it, on moto, with one check round per source start."""
    chosen = config.Settings(endpoint_url=moto.endpoint, **{"regions": (EAST,), **settings})
    session = AwsSession(chosen.aws())
    store = IncidentStore(catalog())
    sources = Sources(catalog(), groups=("/app/none",), check_every=3600)
    return ConsoleApp(store, target_of(chosen, {"Account": "123456789012"}, session), session=session,
                      timers=False, settings=chosen, sources=sources)


def tree(app: ConsoleApp) -> set[str]:
    app.pump()
    return set(app.main.resources.names())


async def command(pilot: Any, text: str) -> None:
    """`:` then TEXT then enter, as typed."""
    await pilot.press("colon")
    await pilot.pause()
    pilot.app.screen.query_one(Input).value = text
    await pilot.press("enter")


async def test_scope_stack_changes_the_tree_and_keeps_the_buffers(moto: MotoServer) -> None:
    seed_stacks(moto.endpoint)
    app = console(moto)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: {"unrelated-table", "orders-lock-store"} <= tree(app), "everything")
        app.store.push([Record("logs", "/app/kept", "s", 1, "e1", "a line from before")])
        app.pump()
        await command(pilot, "scope stack payments")
        await until(pilot, lambda: "unrelated-table" not in tree(app) and "orders-lock-store" in tree(app),
                    "the stack's resources only")
        assert app.settings is not None and app.settings.scope == Scope(stacks=("payments",))
        assert "scope stack payments" in screen_text(app)
        assert any(r.event_id == "e1" for r in app.store.ring)  # the buffer was kept
        await command(pilot, "scope")  # alone: says the current one, changes nothing
        await pilot.pause()
        assert app.settings.scope == Scope(stacks=("payments",))


async def test_region_adds_a_regions_resources_labelled_with_it(moto: MotoServer) -> None:
    table(moto, "east-only", EAST)
    table(moto, "west-only", WEST)
    app = console(moto)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: "east-only" in tree(app), "the first region's table")
        assert "west-only" not in tree(app)
        assert "eu-west-1" not in screen_text(app)
        await command(pilot, f"region {EAST},{WEST}")
        await until(pilot, lambda: {"east-only", "west-only"} <= tree(app), "both regions' tables")
        text = screen_text(app)
        assert f"{EAST},{WEST}" in text  # the status bar
        assert "west-only eu-west-1" in text and "east-only us-east-1" in text  # the tree
        # A diagnosis or a fix acts where its resource is.
        west = app.session_for("west-only")
        assert west is not None and west.region == WEST and app.session_for("east-only") is app.session


async def test_a_profile_that_does_not_work_is_refused_and_one_that_does_applies_its_policy(
        moto: MotoServer) -> None:
    Path(os.environ["AWS_SHARED_CREDENTIALS_FILE"]).write_text(
        "[ops]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    config.config_path().parent.mkdir(parents=True)
    config.config_path().write_text("[profiles.ops]\nread_only = true\n")
    app = console(moto)
    async with app.run_test(size=(160, 48)) as pilot:
        before = app.settings
        await command(pilot, "profile no-such-profile")
        await until(pilot, lambda: not [w for w in app.workers if w.group == "settings"], "the refused switch")
        assert app.settings == before and not app.target.read_only
        await command(pilot, "profile ops")
        await until(pilot, lambda: app.target.profile == "ops", "the switch to ops")
        assert app.target.read_only and app.settings is not None and app.settings.read_only
        assert "ops" in screen_text(app) and "read-only" in screen_text(app)


async def test_a_stack_in_no_region_is_one_warning_and_one_in_some_is_silent(moto: MotoServer) -> None:
    seed_stacks(moto.endpoint)  # "payments" is in us-east-1 only
    sessions = [AwsSession(config.Settings(endpoint_url=moto.endpoint).aws(r)) for r in (EAST, WEST)]
    try:
        result = await RegionalChecker(sessions, catalog(), Scope(stacks=("payments", "ghost"))).run_once()
    finally:
        for session in sessions:
            await session.aclose()
    about_stacks = [w for w in result.warnings if w.startswith("stack ")]
    assert about_stacks == [f"stack ghost: no such stack in any of the regions ({EAST}, {WEST})"]
    assert "orders-lock-store" in {r.name for r in result.resources}


def test_scope_and_region_arguments() -> None:
    assert parse_scope("") is None
    assert parse_scope("all") == Scope()
    assert parse_scope("stack payments, tag app=x prefix bos-") == Scope(
        prefixes=("bos-",), stacks=("payments",), tags=(("app", "x"),))
    for bad, problem in (("stack", "needs a value"), ("bucket b", "not stack, tag or prefix"),
                         ("tag novalue", "KEY=VALUE")):
        with pytest.raises(UserError, match=problem):
            parse_scope(bad)
    assert parse_regions("us-east-1, eu-west-1,us-east-1") == (EAST, WEST)
    with pytest.raises(UserError, match="'useast' is not a region"):
        parse_regions("useast")
