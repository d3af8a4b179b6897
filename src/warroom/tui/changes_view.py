"""The Changes view (what changed, with the findings' first occurrences on the same timeline),
and the way a change is put back: a revert opened in the fix wizard like any playbook.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from warroom.incident.changes import WINDOW_S, Change, Suspect
from warroom.playbook.catalog import data_dir
from warroom.tui.lines import plain
from warroom.tui.messages import FixRequested

if TYPE_CHECKING:
    from warroom.aws.session import AwsSession
    from warroom.incident.store import IncidentStore
    from warroom.tui.app import ConsoleApp

REVERT_PREFIX = "revert:"   # the id a revert's synthetic playbook is registered under


@dataclass(frozen=True)
class Entry:
    """One row of the timeline: a change, or a finding's first occurrence."""

    time: float
    change: Change | None = None
    finding: str = ""

    def text(self) -> Text:
        clock = datetime.fromtimestamp(self.time).astimezone().strftime("%H:%M:%S")
        row = Text(f"{clock}  ", style="dim", end="")
        if self.change is None:
            row.append("▲ first ", style="bold red").append(plain(self.finding), style="bold")
            return row
        c = self.change
        row.append("● ", style="yellow").append(plain(c.event), style="bold")
        if c.resource:
            row.append(f" {plain(c.resource)}")
        if c.actor:
            row.append(" by ", style="dim").append(plain(c.actor))
        if c.summary:
            row.append(": ", style="dim").append(plain(c.summary[:160]))
        return row


def entries(changes: list[Change], store: IncidentStore) -> list[Entry]:
    """Changes and the findings' first occurrences, oldest first."""
    rows = [Entry(c.time, change=c) for c in changes]
    rows += [Entry(f.first / 1000, finding=f"{f.playbook} on {f.resource or '?'}")
             for f in store.findings.values() if f.first]
    return sorted(rows, key=lambda e: e.time)


async def load_changes(session: AwsSession, window_s: float = WINDOW_S) -> tuple[list[Change], list[str]]:
    from warroom.aws.changes import collect

    now = time.time()
    found = await collect(session, now - window_s, now)
    return found.changes, found.warnings


async def load_suspects(session: AwsSession, store: IncidentStore, playbook: str, resource: str) -> list[Suspect]:
    """The ranked suspects for a finding in the store (none when it has no first occurrence)."""
    from warroom.aws.changes import suspects

    finding = store.findings.get((playbook, resource))
    if finding is None or not resource:
        return []
    return await suspects(session, resource, finding.first / 1000)


def request_revert(app: ConsoleApp, change: Change) -> bool:
    """Open the wizard on the revert of `change` (same confirm, verify and audit as any fix)."""
    from warroom.runner import revert

    planned = revert.plan(change)
    if planned is None:
        app.notify(f"{change.event} on {change.resource} cannot be put back: its previous state is "
                   "not known or AWS has no way back", severity="warning", timeout=5)
        return False
    pid = f"{REVERT_PREFIX}{change.resource}"
    app.store.playbooks[pid] = planned.playbook
    # The values keep their types (a list of layers, a number): the runner takes them as they are.
    app.post_message(FixRequested(pid, change.resource, cast(dict[str, str], planned.values),
                                  change.resource_type))
    return True


class ChangesScreen(Screen[None]):
    """The change timeline of the account with the findings' first occurrences; enter reverts."""

    CSS_PATH = [str(data_dir("styles") / "changes.tcss")]
    BINDINGS = [Binding("escape", "close", "Back"), Binding("r", "revert", "Revert"),
                Binding("g", "reload", "Reload")]

    def __init__(self, store: IncidentStore, session: AwsSession | None) -> None:
        super().__init__()
        self.store = store
        self.session = session
        self.rows: list[Entry] = []

    def compose(self) -> ComposeResult:
        yield Static(Text("Changes in the last 2 h, oldest first · enter or r: put the selected change back",
                          end=""), id="changes-head", markup=False)
        yield OptionList(id="changes-list")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(OptionList).border_title = "Changes"
        self.action_reload()

    def action_reload(self) -> None:
        if self.session is None:
            self.show([], ["no AWS session"])
            return
        self.run_worker(self._load(), group="changes", exclusive=True, exit_on_error=False)

    async def _load(self) -> None:
        from warroom.aws.session import explain

        assert self.session is not None
        try:
            changes, warnings = await load_changes(self.session)
        except Exception as exc:  # noqa: BLE001 - shown, the console keeps going
            changes, warnings = [], [explain(exc, self.session.options)]
        self.show(changes, warnings)

    def show(self, changes: list[Change], warnings: list[str]) -> None:
        self.rows = entries(changes, self.store)
        listing = self.query_one(OptionList)
        listing.clear_options()
        listing.add_options([Option(row.text()) for row in self.rows] or
                            [Option(Text("no changes found", style="dim"), disabled=True)])
        for warning in warnings:
            self.notify(plain(warning), severity="warning", timeout=5)
        listing.highlighted = len(self.rows) - 1 if self.rows else None
        listing.focus()

    def action_revert(self) -> None:
        index = self.query_one(OptionList).highlighted
        row = self.rows[index] if index is not None and index < len(self.rows) else None
        if row is None or row.change is None:
            self.notify("select a change to revert", timeout=2)
            return
        request_revert(cast("ConsoleApp", self.app), row.change)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_revert()

    def action_close(self) -> None:
        self.app.pop_screen()


def suspect_lines(suspects: list[Suspect], limit: int = 3) -> list[tuple[str, bool]]:
    """The top suspects in words, with whether each can be put back."""
    from warroom.runner import revert

    return [(s.describe(), revert.plan(s.change) is not None) for s in suspects[:limit]]
