"""The main screen: resources, findings, logs, guidance and the status bar, wired together."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Input, Sparkline

from warroom.incident.attribution import record_captures, resource_captures
from warroom.incident.store import IncidentStore
from warroom.runner.diagnose import params_for, run_diagnose
from warroom.runner.events import StepResult
from warroom.tui import command
from warroom.tui.findings import FindingsList
from warroom.tui.footer import KeysFooter
from warroom.tui.guidance import GuidancePane, Shown
from warroom.tui.lines import plain
from warroom.tui.logview import LogView
from warroom.tui.messages import PlaybookChosen, ResourceChosen
from warroom.tui.resources import ResourceTree
from warroom.tui.statusbar import StatusBar, Target

if TYPE_CHECKING:
    from warroom.aws.session import AwsSession
    from warroom.incident.changes import Suspect

NARROW = 100   # columns below which side panes shrink
WIDE = 140     # columns from which the findings get room for a resource's whole name
SHORT = 30     # rows below which the guidance pane shrinks
DIAGNOSE_TTL = 60.0
REQUEST_REACH_MS = 15 * 60_000  # R looks this far either side of the line (a Lambda runs 15 min at most)


class MainScreen(Screen[None]):
    BINDINGS = [
        Binding("slash", "filter", "Filter"),
        Binding("colon", "command", "Command"),
        Binding("question_mark", "help", "Help"),
        Binding("C", "changes", "Changes", key_display="C"),
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
        self._suspected: dict[tuple[str, str], tuple[float, list[Suspect]]] = {}

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
        yield KeysFooter()

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
        self.set_class(event.size.width >= WIDE, "-wide")
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

    def switch(self, target: Target, session: AwsSession) -> None:
        """The app's new settings: the status bar shows them, diagnoses and changes use them."""
        self.target, self.session = target, session
        self._diagnosed.clear()
        self._suspected.clear()
        status = self.query_one(StatusBar)
        status.target = target
        status.refresh_status()

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
        narrow = getattr(self.app, "tails", None)
        if narrow is not None and narrow.narrow.pattern:
            parts.append(f"at the source: {plain(narrow.narrow.pattern)}")
        if model.request:
            parts.append(f"request {plain(model.request)}")
        elif model.filter_text:
            parts.append(f"/{plain(model.filter_text)}/")
        if model.window_ms is not None:
            parts.append(f"since {model.window_label}")
        if logs.wrap:
            parts.append("wrap")
        logs.border_title = Content("  ".join(parts))  # Content: a str would be read as markup
        searching = "" if model.complete else " so far (searching)"
        logs.border_subtitle = f"{len(model):,} lines{searching} · {logs.status_text()}"

    # -- messages from panes ----------------------------------------------------------

    def on_log_view_state_changed(self, event: LogView.StateChanged) -> None:
        if self.findings.local_time != self.logs.local_time:
            self.findings.set_local_time(self.logs.local_time)
        self.update_logs_title()

    def on_resource_chosen(self, event: ResourceChosen) -> None:
        self.resource_label = event.label
        model = self.logs.model
        model.groups = event.groups
        model.filter_text = event.text
        model.request = ""
        model.pattern = None
        model.set_filter(event.text) if event.text else model.rebuild()
        self.logs.refilter()
        self.update_logs_title()

    def on_log_view_chosen(self, event: LogView.Chosen) -> None:
        record = event.record
        best = record.matches[0]
        res = self.store.group_resource.get(record.group)
        captures = record_captures(self.store.playbooks.get(best.playbook), record, res)
        resource, kind = (res.name, res.kind) if res is not None else (self.store.resource_of(record), "")
        self.show_playbook(best.playbook, resource, captures, record.message, kind=kind)
        if event.open_it:
            self.guidance.focus()

    def on_playbook_chosen(self, event: PlaybookChosen) -> None:
        self.show_playbook(event.playbook, event.resource, event.captures, event.evidence,
                           rerun=event.rerun, kind=event.resource_kind)
        request = self.guidance.fix_request() if event.open_fix else None
        if request is not None and request.playbook == event.playbook:
            # To the app directly: a message made here stops bubbling at this screen.
            self.app.post_message(request)

    def show_playbook(self, pid: str, resource: str, captures: dict[str, str], evidence: str,
                      rerun: bool = False, kind: str = "") -> None:
        playbook = self.store.playbooks.get(pid)
        if playbook is None:
            self.notify(f"no playbook '{plain(pid)}' is loaded", severity="warning")
            return
        owner = self.store.resource(resource, kind)
        if owner is not None:  # what a resource fills beyond its name (a topic's ARN)
            captures = {**resource_captures(playbook, owner), **captures}
        values = params_for(playbook, captures, resource, kind)
        key = (pid, resource)
        cached = self._diagnosed.get(key)
        fresh = cached is not None and time.monotonic() - cached[0] < DIAGNOSE_TTL and not rerun
        self.guidance.show(Shown(playbook, resource, values, evidence,
                                 cached[1] if fresh and cached else None, resource_kind=kind))
        if not fresh:
            self.run_worker(self._diagnose(pid, resource, values), group="diagnose",
                            exclusive=True, exit_on_error=False)
        suspected = self._suspected.get(key)
        if suspected is not None and time.monotonic() - suspected[0] < DIAGNOSE_TTL and not rerun:
            self.guidance.set_suspects(pid, resource, suspected[1])
        elif self.session is not None and key in self.store.findings:
            self.run_worker(self._suspects(pid, resource), group="suspects", exclusive=True,
                            exit_on_error=False)

    async def _suspects(self, pid: str, resource: str) -> None:
        from warroom.tui.changes_view import load_suspects

        assert self.session is not None
        found = await load_suspects(self.session, self.store, pid, resource)
        self._suspected[(pid, resource)] = (time.monotonic(), found)
        self.guidance.set_suspects(pid, resource, found)

    def action_changes(self) -> None:
        from warroom.tui.changes_view import ChangesScreen

        self.app.push_screen(ChangesScreen(self.store, self.session))

    async def _diagnose(self, pid: str, resource: str, values: dict[str, Any]) -> None:
        from warroom.tui.app import ConsoleApp

        playbook = self.store.playbooks[pid]
        session = self.app.session_for(resource) if isinstance(self.app, ConsoleApp) else self.session
        results = await run_diagnose(session, playbook, values)
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
        elif logs.model.filter_text and (self.resource_label == "all" or logs.model.request):
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

        self.app.push_screen(CommandScreen(self.resource_names(), self.playbook_titles()),
                             self._run_command)

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
        elif verb == "changes":
            self.action_changes()
        elif verb == "fix":
            from warroom.tui.wizard import fix_request

            self.post_message(fix_request(arg, self.guidance.shown))
        elif verb == "filter":
            self.logs.model.set_filter(arg)
            self.logs.refilter()
            self.update_logs_title()
        elif verb in ("scope", "region", "profile"):
            self.change_settings(verb, arg)
        elif verb == "pattern":
            self.narrow(arg)
        else:
            self.jump(verb, arg)

    def narrow(self, arg: str) -> None:
        """`:pattern P`: the log tails read only events matching the CloudWatch filter pattern P,
        at the source (Live Tail's `logEventFilterPattern`, FilterLogEvents' `filterPattern`);
        bare, the `/` filter's text as an exact phrase; `off`, every event again (the time it
        was on is read again). Symptoms outside the pattern are not seen meanwhile: the logs
        pane's title says so."""
        from warroom.aws import filterpattern
        from warroom.aws.lookup import quoted_term
        from warroom.tui.app import ConsoleApp

        app = self.app
        if not isinstance(app, ConsoleApp) or not len(app.tails):
            self.notify("pattern: no log tail is running", severity="warning", timeout=4)
            return
        text = arg.strip()
        if text.lower() == "off":
            text = ""
        elif not text:
            model = self.logs.model
            if not model.filter_text or model.request or not model.plain_text():
                self.notify("pattern: give a CloudWatch filter pattern (:pattern ERROR), or set a "
                            "/ filter of plain text first", severity="warning", timeout=6)
                return
            try:
                text = quoted_term(model.filter_text)
            except ValueError as exc:
                self.notify(f"pattern: the / filter cannot be sent as a pattern: {exc}",
                            severity="warning", timeout=6)
                return
        wrong = filterpattern.problem(text)
        if wrong:
            self.notify(f"pattern: {wrong}", severity="warning", timeout=6)
            return
        tails = app.tails.narrow_to(text or None)
        self.update_logs_title()
        said = f"only events matching {plain(text)} are read" if text else "every event is read again"
        self.notify(f"pattern: {said} ({tails} log tail{'s' if tails != 1 else ''})", timeout=5)

    def on_log_view_request_shown(self, event: LogView.RequestShown) -> None:
        """R: also ask the log tails for the request's lines the buffer no longer holds
        (FilterLogEvents with the id, within the tails' budget), around the line's time, in
        the groups its lines came from (one call each, not one per group followed)."""
        from warroom.tui.app import ConsoleApp

        app = self.app
        if not isinstance(app, ConsoleApp):
            return
        now = int(self.store.clock() * 1000)
        asked = app.tails.lookup(event.request_id, event.at_ms - REQUEST_REACH_MS,
                                 min(now, event.at_ms + REQUEST_REACH_MS), event.groups)
        if asked is not None:
            self.logs.lookup_sent(*asked)
            self.notify(f"request {plain(event.request_id)}: looking in CloudWatch for its lines the "
                        f"buffer no longer holds ({len(event.groups)} group{'s' if len(event.groups) != 1 else ''})",
                        timeout=4)

    def change_settings(self, verb: str, arg: str) -> None:
        """`:scope`, `:region`, `:profile`: the app restarts its sources on the new settings."""
        from dataclasses import replace

        from warroom import config
        from warroom.errors import UserError
        from warroom.tui.app import ConsoleApp

        app = self.app
        if not isinstance(app, ConsoleApp) or app.settings is None or app.sources is None:
            self.notify(f"{verb}: this console has no settings to change", severity="warning", timeout=4)
            return
        settings = app.settings
        try:
            if verb == "scope":
                scope = command.parse_scope(arg)
                if scope is None:
                    self.notify(f"scope: {settings.scope}", timeout=5)
                    return
                new = replace(settings, scope=scope)
            elif verb == "region":
                new = replace(settings, regions=command.parse_regions(arg))
            else:
                if not arg:
                    raise UserError("profile: give a profile name, e.g. profile prod")
                new = config.with_profile(settings, arg, app.read_only_flag)
        except UserError as exc:
            self.notify(str(exc), severity="warning", timeout=6)
            return
        if new == settings:
            self.notify(f"{verb}: unchanged", timeout=3)
            return
        app.run_worker(app.switch(new, verb), group="settings", exclusive=True, exit_on_error=False)

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
