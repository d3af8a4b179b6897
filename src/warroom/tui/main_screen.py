"""The main screen: resources, findings, logs, guidance and the status bar, wired together."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Input, Sparkline

from warroom.incident.store import IncidentStore, context_params
from warroom.tui import command
from warroom.tui.diagnose import StepResult, params_for, run_diagnose
from warroom.tui.findings import FindingsList
from warroom.tui.guidance import GuidancePane, Shown
from warroom.tui.lines import plain
from warroom.tui.logview import LogView
from warroom.tui.messages import PlaybookChosen, ResourceChosen
from warroom.tui.resources import ResourceTree
from warroom.tui.statusbar import StatusBar, Target

if TYPE_CHECKING:
    from warroom.aws.session import AwsSession

NARROW = 100   # columns below which side panes shrink
SHORT = 30     # rows below which the guidance pane shrinks
DIAGNOSE_TTL = 60.0


class MainScreen(Screen[None]):
    BINDINGS = [
        Binding("slash", "filter", "Filter"),
        Binding("colon", "command", "Command"),
        Binding("question_mark", "help", "Help"),
        Binding("escape", "back", "Back", show=False),
    ]

    def __init__(self, store: IncidentStore, target: Target,
                 session: AwsSession | None = None) -> None:
        super().__init__()
        self.store = store
        self.target = target
        self.session = session
        self.resource_label = "all"
        self._diagnosed: dict[tuple[str, str], tuple[float, list[StepResult]]] = {}

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield ResourceTree(self.store, id="resources")
                yield Sparkline([0] * 15, id="errors")
                yield FindingsList(self.store, id="findings")
            with Vertical(id="right"):
                yield LogView(self.store, id="logs")
                yield Input(placeholder="filter: text or regex, enter to keep, esc to close",
                            id="filter")
                yield GuidancePane(id="guidance")
        yield StatusBar(self.store, self.target, id="status")
        yield Footer()

    # -- convenience ------------------------------------------------------------------

    @property
    def logs(self) -> LogView:
        return self.query_one(LogView)

    @property
    def guidance(self) -> GuidancePane:
        return self.query_one(GuidancePane)

    @property
    def findings(self) -> FindingsList:
        return self.query_one(FindingsList)

    @property
    def resources(self) -> ResourceTree:
        return self.query_one(ResourceTree)

    def on_mount(self) -> None:
        self.query_one("#resources").border_title = "Resources"
        self.query_one("#errors").border_title = "Symptoms/min"
        self.findings.border_title = "Findings"
        self.guidance.border_title = "Guidance"
        self.query_one("#filter", Input).display = False
        self.update_logs_title()
        self.logs.focus()

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")
        self.set_class(event.size.height < SHORT, "-short")

    # -- the app's timers call these --------------------------------------------------

    def ingest(self, seqs: list[int]) -> None:
        self.logs.ingest(seqs)

    def tick(self) -> None:
        """Counters, health, findings and the sparkline, about once a second."""
        self.query_one(StatusBar).refresh_status()
        self.resources.refresh_health()
        self.findings.refresh_findings()
        self.query_one("#errors", Sparkline).data = self.store.errors_per_minute(None, 15)
        self.update_logs_title()

    def update_logs_title(self) -> None:
        logs = self.logs
        model = logs.model
        if model.groups is None:
            scope = "all groups"
        else:
            groups = sorted(model.groups)
            scope = plain(groups[0]) + (f" + {len(groups) - 1}" if len(groups) > 1 else "")
        if self.resource_label != "all" and model.groups is None:
            scope = plain(self.resource_label)
        parts = [f"Logs  {scope}"]
        if model.filter_text:
            parts.append(f"/{plain(model.filter_text)}/")
        if model.window_ms is not None:
            parts.append(f"since {model.window_label}")
        if logs.wrap:
            parts.append("wrap")
        logs.border_title = "  ".join(parts)
        logs.border_subtitle = f"{len(model):,} lines · {logs.status_text()}"

    # -- messages from panes ----------------------------------------------------------

    def on_log_view_state_changed(self, event: LogView.StateChanged) -> None:
        self.update_logs_title()

    def on_resource_chosen(self, event: ResourceChosen) -> None:
        self.resource_label = event.label
        model = self.logs.model
        model.groups = event.groups
        model.filter_text = event.text
        model.pattern = None
        model.set_filter(event.text) if event.text else model.rebuild()
        self.logs.refilter()
        self.update_logs_title()

    def on_log_view_chosen(self, event: LogView.Chosen) -> None:
        record = event.record
        best = record.matches[0]
        playbook = self.store.playbooks.get(best.playbook)
        captures = dict(best.captures)
        if playbook is not None:
            captures = {**context_params(playbook, record), **captures}
        res = self.store.group_resource.get(record.group)
        resource, kind = (res.name, res.kind) if res is not None else (self.store.resource_of(record), "")
        self.show_playbook(best.playbook, resource, captures, record.message, kind=kind)
        if event.open_it:
            self.guidance.focus()

    def on_playbook_chosen(self, event: PlaybookChosen) -> None:
        self.show_playbook(event.playbook, event.resource, event.captures, event.evidence,
                           rerun=event.rerun, kind=event.resource_kind)

    def show_playbook(self, pid: str, resource: str, captures: dict[str, str], evidence: str,
                      rerun: bool = False, kind: str = "") -> None:
        playbook = self.store.playbooks.get(pid)
        if playbook is None:
            self.notify(f"no playbook '{plain(pid)}' is loaded", severity="warning")
            return
        values = params_for(playbook, captures, resource, kind)
        key = (pid, resource)
        cached = self._diagnosed.get(key)
        fresh = cached is not None and time.monotonic() - cached[0] < DIAGNOSE_TTL and not rerun
        self.guidance.show(Shown(playbook, resource, values, evidence,
                                 cached[1] if fresh and cached else None, resource_kind=kind))
        if not fresh:
            self.run_worker(self._diagnose(pid, resource, values), group="diagnose",
                            exclusive=True, exit_on_error=False)

    async def _diagnose(self, pid: str, resource: str, values: dict[str, Any]) -> None:
        playbook = self.store.playbooks[pid]
        if self.session is None:
            results = [StepResult(s.title, "skipped", ["no AWS session"]) for s in playbook.diagnose]
        else:
            results = await run_diagnose(self.session, playbook, values)
        self._diagnosed[(pid, resource)] = (time.monotonic(), results)
        self.guidance.set_results(pid, resource, results)

    # -- keys -------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.value = self.logs.model.filter_text
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.logs.model.set_filter(event.value)
        self.logs.refilter()
        self.update_logs_title()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self._close_filter()

    def _close_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = False
        self.logs.focus()

    def action_back(self) -> None:
        """esc: close the filter box, else clear the filter, else resume, else show all."""
        box = self.query_one("#filter", Input)
        logs = self.logs
        if box.display:
            self._close_filter()
        elif not logs.has_focus:
            logs.focus()
        elif logs.model.filter_text and self.resource_label == "all":
            logs.model.set_filter("")
            logs.refilter()
        elif not logs.following:
            logs.resume()
        elif logs.model.filtered:
            self.log_action("clear")
        self.update_logs_title()

    def action_help(self) -> None:
        from warroom.tui.help import HelpScreen

        self.app.push_screen(HelpScreen())

    def action_command(self) -> None:
        from warroom.tui.command import CommandScreen

        names = self.resource_names() + [pid for pid, _ in self.playbook_titles()]
        self.app.push_screen(CommandScreen(names), self._run_command)

    def _run_command(self, text: str | None) -> None:
        if not text:
            return
        verb, arg = command.parse(text)
        if verb == "quit":
            self.app.exit()
        elif verb == "help":
            self.action_help()
        elif verb == "follow":
            self.logs.resume()
        elif verb == "fix":
            from warroom.tui.wizard import fix_request

            self.post_message(fix_request(arg, self.guidance.shown))
        elif verb == "filter":
            self.logs.model.set_filter(arg)
            self.logs.refilter()
            self.update_logs_title()
        else:
            self.jump(verb, arg)

    def jump(self, verb: str, name: str) -> None:
        """Go to a resource (filter the logs) or a playbook (show it)."""
        if verb in ("", "resource") and self.resources.select_resource(name):
            self.logs.focus()
            return
        if verb in ("", "playbook") and name in self.store.playbooks:
            if not self.findings.select_playbook(name):
                self.show_playbook(name, "", {}, "")
            self.guidance.focus()
            return
        self.notify(f"no {'resource or playbook' if not verb else verb} named '{plain(name)}'",
                    severity="warning", timeout=3)

    def log_action(self, action: str) -> None:
        logs = self.logs
        if action == "clear":
            self.resource_label = "all"
            logs.model.groups = None
            logs.model.window = 0
            logs.model.set_filter("")
            logs.refilter()
        else:
            getattr(logs, f"action_{action}")()
        self.update_logs_title()

    def resource_names(self) -> list[str]:
        return self.resources.names()

    def playbook_titles(self) -> list[tuple[str, str]]:
        return sorted((p.id, p.title) for p in self.store.playbooks.values())
