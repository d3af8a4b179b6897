"""Nothing typed or received is read as markup: every payload shows literally (Pilot).

Each payload would, if parsed as Textual/Rich markup, raise (`[`, `[/]`), restyle
(`[bold red]`), open a file (`[link=...]`) or run an action on click (`[@click=...]`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from textual.content import Content
from textual.pilot import Pilot

from tests.tui_helpers import TARGET, catalog, sample_app, screen_text, toasts, until
from warroom.incident.records import Finding, Record, Resource
from warroom.runner.events import StepPlan
from warroom.tui import sample
from warroom.tui.app import ConsoleApp
from warroom.tui.confirm import TypedModal
from warroom.tui.resources import ResourceTree

SIZE = (160, 48)
PAYLOADS = ("[", "[/]", "[bold red]x", "[link=file:///etc/passwd]x", "[@click=app.quit]x",
            "[$LATEST]x", "x\\")


async def _type(pilot: Pilot[Any], key: str, text: str) -> None:
    await pilot.press(key, "ctrl+u", *text, "enter")
    await pilot.pause()


async def test_filter_text_is_plain_in_the_title() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.pump()
        for payload in PAYLOADS:
            await _type(pilot, "slash", payload)
            assert app.main.logs.model.filter_text == payload
            assert f"/{payload}/" in screen_text(app), payload
            await pilot.press("escape")  # clears the filter
        # Half typed: each keystroke retitles the pane, so every prefix must be inert too.
        await pilot.press("slash", *"[/]")
        await pilot.pause()
        assert "/[/]/" in screen_text(app)


async def test_command_text_is_plain_in_its_notification_and_filter() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.pump()
        for payload in ("foo[/]", *PAYLOADS):
            app.clear_notifications()
            await _type(pilot, "colon", payload)
            said = f"no resource or playbook named '{payload}'"
            await until(pilot, lambda: toasts(app) == [said], said)
            await _type(pilot, "colon", f"filter {payload}")
            assert f"/{payload}/" in screen_text(app), payload
        assert app.is_running  # `[@click=app.quit]` never became an action


async def test_notifications_are_plain_text() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.notify("app: [bold red]x[/] [link=file:///etc/passwd]y[/link]")
        # A widget's notify asks for markup explicitly; the console still shows it plain.
        app.main.logs.notify("widget: [@click=app.quit]z[/] [")
        said = ["app: [bold red]x[/] [link=file:///etc/passwd]y[/link]", "widget: [@click=app.quit]z[/] ["]
        await until(pilot, lambda: toasts(app) == said, "both notifications")


def _hostile_store():  # type: ignore[no-untyped-def]
    """The sample incident plus resources, a playbook and a log line named with markup."""
    store = sample.store(catalog(), count=100)
    group = "/aws/lambda/[bold red]fn[/]"
    store.set_resources([*sample.RESOURCES,
                         Resource("function", "[bold red]fn[/]", service="lambda", log_group=group),
                         Resource("table", "[@click=app.quit]locks", service="dynamodb")])
    store.set_check_findings([Finding("lambda-timeout", "[@click=app.quit]locks", "table",
                                      "[link=file:///etc/passwd]seen[/link]",
                                      sample.BASE_MS - 60_000, "probe")])  # seen first: `:pb` picks it
    store.push([Record("logs", group, "2024/05/01/[$LATEST]abc", sample.BASE_MS + 1_000, "h1",
                       "[bold red]log line[/] [@click=app.quit]q[/]")])
    pb = store.playbooks["lambda-timeout"]
    store.playbooks["lambda-timeout"] = dataclasses.replace(pb, title="[link=file:///etc/passwd]T[/link] [")
    return store


async def test_resource_names_log_lines_and_playbook_titles_are_plain() -> None:
    app = ConsoleApp(_hostile_store(), TARGET, timers=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.pump()
        app.main.tick()
        await pilot.pause()
        text = screen_text(app)
        assert "[bold red]fn[/]" in text and "[@click=app.quit]locks" in text  # the tree
        assert "[bold red]log line[/] [@click=app.quit]q[/]" in text            # the log line
        tree = app.screen.query_one(ResourceTree)
        assert tree.select_resource("[bold red]fn[/]")
        await pilot.pause()
        assert "Logs  /aws/lambda/[bold red]fn[/]" in screen_text(app)
        assert tree.select_resource("[@click=app.quit]locks")  # no log group: filtered by name
        await pilot.pause()
        assert "Logs  [@click=app.quit]locks  /[@click=app.quit]locks/" in screen_text(app)
        # The finding on it, shown with its playbook in the guidance pane.
        await pilot.press("colon", *"pb lambda-timeout", "enter")
        await pilot.pause()
        text = screen_text(app)
        assert "Resource [@click=app.quit]locks" in text
        assert "[link=file:///etc/passwd]T[/link] [" in text
        # The command palette lists the playbook with its title as help.
        await pilot.press("ctrl+p", *"lambda-timeout")
        hit = "playbook lambda-timeout\n[link=file:///etc/passwd]T[/link] ["
        await until(pilot, lambda: hit in _palette_hits(app), "the playbook's hit, title as help")
        assert app.is_running


def _palette_hits(app: ConsoleApp) -> str:
    """The command palette's hits as shown (prompt and help), if it is open."""
    from textual.command import CommandList

    if not app.screen.query(CommandList):
        return ""
    options = app.screen.query_one(CommandList).options
    return "\n\n".join(Content.from_markup(o.prompt).plain for o in options)  # type: ignore[arg-type]


async def test_typed_confirm_shows_the_name_to_type_literally() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        pb = app.store.playbooks["lambda-timeout"]
        plan = StepPlan("fix", 1, pb.fix[0], "Delete it", "", "call", True, True)
        app.push_screen(TypedModal(plan, "[bold]tbl[/] [@click=app.quit]x"))
        await pilot.pause()
        assert "Destructive. Type [bold]tbl[/] [@click=app.quit]x to confirm:" in screen_text(app)
