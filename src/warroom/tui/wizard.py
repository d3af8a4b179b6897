"""The fix wizard: a screen that walks a playbook through the runner, one confirmed step at a time.

Entered with `enter` in the guidance pane (the console calls `start_fix`) or `:fix PLAYBOOK`.
Diagnose results first, then each fix step: its plan (plain words, the exact call, the CLI to
copy), a modal to confirm it, progress, result and verify; after the fix, a watch of the symptom.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, RichLog, Static

from warroom.playbook.catalog import data_dir
from warroom.playbook.model import Playbook
from warroom.runner.events import FailureChoice, Progress, RunResult, StepPlan
from warroom.tui.lines import plain
from warroom.tui.messages import FixRequested
from warroom.tui.plan_text import copy_text, plan_text

if TYPE_CHECKING:
    from warroom.aws.session import AwsSession
    from warroom.incident.audit import AuditLog
    from warroom.incident.store import IncidentStore
    from warroom.runner.engine import Runner
    from warroom.runner.watch import SeenSince
    from warroom.tui.app import ConsoleApp
    from warroom.tui.wizard_prompter import WizardPrompter

WATCH_SECONDS = 180.0   # how long the symptom is watched after a fix
WATCH_INTERVAL = 10.0
_MARKS = {"pending": ("○", "dim"), "running": ("…", "bold"), "done": ("✓", "green"),
          "failed": ("✗", "bold red"), "skipped": ("·", "dim"), "refused": ("⊘", "bold yellow"),
          "not_run": (" ", "dim"), "aborted": ("✗", "red"), "planned": ("○", "dim")}
_TERMINAL = {"done", "failed", "skipped", "refused", "not_run", "aborted"}


class WizardScreen(Screen[None]):
    """One playbook's run. The runner works in a worker; questions come up as modals."""

    CSS_PATH = [str(data_dir("styles") / "wizard.tcss")]
    BINDINGS = [Binding("escape", "close", "Close"), Binding("c", "copy", "Copy CLI"),
                Binding("s", "stop_watch", "Stop watching", show=False)]

    def __init__(self, playbook: Playbook, session: AwsSession, *, values: Mapping[str, Any] | None = None,
                 resource: str = "", resource_kind: str = "", read_only: bool = False,
                 audit: AuditLog | None = None,
                 seen_since: SeenSince | None = None, watch_seconds: float = WATCH_SECONDS,
                 watch_interval: float = WATCH_INTERVAL, poll_interval: float = 1.0) -> None:
        super().__init__()
        self.playbook = playbook
        self.session = session
        self.values = dict(values or {})
        self.resource = resource
        self.resource_kind = resource_kind
        self.read_only = read_only
        self.audit = audit
        self.seen_since = seen_since
        self.watch_seconds = watch_seconds
        self.watch_interval = watch_interval
        self.poll_interval = poll_interval
        self.runner: Runner | None = None
        self.prompter: WizardPrompter | None = None
        self.status: dict[tuple[str, int], str] = {}
        self.current: StepPlan | None = None
        self.result: RunResult | None = None
        self.watch_outcome: str | None = None
        self.finished = False      # the runner is done: esc goes back
        self.settled = False       # ...and so is the watch after it
        self.state = "starting"

    # -- layout -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="wz-head", markup=False)
        with Horizontal(id="wz-body"):
            yield Static(id="wz-steps", markup=False)
            with VerticalScroll(id="wz-detail"):
                yield Static(id="wz-plan", markup=False)
        yield RichLog(id="wz-log", markup=False, highlight=False, wrap=True, min_width=20)
        yield Static(id="wz-state", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        from warroom.runner.engine import Runner
        from warroom.tui.wizard_prompter import WizardPrompter

        self.query_one("#wz-steps").border_title = "Steps"
        self.query_one("#wz-detail").border_title = "Step"
        self.query_one("#wz-log").border_title = "Progress"
        self.prompter = WizardPrompter(self)
        self.runner = Runner(self.playbook, self.prompter, self.session, values=self.values,
                             resource=self.resource or None, resource_kind=self.resource_kind,
                             read_only=self.read_only,
                             audit=self.audit, poll_interval=self.poll_interval)
        for plan in self.runner.plans():
            self.status[(plan.phase, plan.number)] = "pending"
        self.render_head()
        self.render_steps()
        self.show_plan(self.runner.plans()[0] if self.runner.plans() else None)
        self.run_worker(self._run(), group="wizard", exclusive=True, exit_on_error=False)

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < 100, "-narrow")

    def render_head(self) -> None:
        t = Text(no_wrap=True, overflow="ellipsis", end="")
        t.append("Fix ", "bold").append(plain(self.playbook.id), "bold")
        t.append("  " + plain(self.playbook.title))
        if self.resource:
            t.append("  · ", "dim").append(plain(self.resource), "bold")
        if self.read_only:
            t.append("  READ-ONLY: nothing will be changed", "bold reverse yellow")
        self.query_one("#wz-head", Static).update(t)

    def render_steps(self) -> None:
        assert self.runner is not None
        t = Text(end="")
        phase = ""
        for plan in self.runner.plans():
            if plan.phase != phase:
                phase = plan.phase
                t.append(("Diagnose" if phase == "diagnose" else "Fix") + "\n", "bold underline")
            status = self.status.get((plan.phase, plan.number), "pending")
            mark, style = _MARKS.get(status, ("?", ""))
            current = self.current is not None and (self.current.phase, self.current.number) == (
                plan.phase, plan.number)
            t.append(f"{mark} ", style).append(f"{plan.number}. {plain(plan.title)}",
                                                "reverse" if current and not self.finished else "")
            if status in ("refused", "failed", "skipped"):
                t.append(f" {status}", style)
            t.append("\n")
        t.rstrip()
        self.query_one("#wz-steps", Static).update(t)

    def show_plan(self, plan: StepPlan | None) -> None:
        """The step being worked on, in full, in the detail pane."""
        self.current = plan
        if plan is not None:
            text = plan_text(plan)
            status = self.status.get((plan.phase, plan.number))
            if status == "refused":
                text.append("\nREFUSED (read-only): this step would change something; not run",
                            "bold reverse yellow")
            self.query_one("#wz-plan", Static).update(text)
        if self.runner is not None:
            self.render_steps()

    def current_preview(self) -> StepPlan | None:
        """The first unfinished step with what is known now (`<name>` for what is not)."""
        if self.runner is None:
            return None
        for plan in self.runner.plans():
            if self.status.get((plan.phase, plan.number)) not in _TERMINAL:
                self.status[(plan.phase, plan.number)] = "running"
                self.show_plan(plan)
                return plan
        return None

    def log_line(self, text: str | Text, style: str = "") -> None:
        line = text if isinstance(text, Text) else Text(text, style=style)
        self.query_one("#wz-log", RichLog).write(line)

    def set_state(self, text: str, style: str = "") -> None:
        self.state = text
        self.query_one("#wz-state", Static).update(Text(plain(text), style=style, no_wrap=True,
                                                        overflow="ellipsis", end=""))

    # -- the runner -------------------------------------------------------------------

    async def _run(self) -> None:
        from warroom.aws.session import explain

        assert self.runner is not None
        self.set_state("running the diagnose steps")
        try:
            result = await self.runner.run()
        except Exception as exc:  # noqa: BLE001 - shown in plain words; the console goes on
            self.log_line(f"✗ the run stopped: {plain(explain(exc, self.session.options))}", "bold red")
            self.finish("stopped by an error", "bold red")
            self.settled = True
            return
        self.result = result
        for r in (*result.diagnose, *result.fix):
            self.status[(r.plan.phase, r.plan.number)] = r.status
        changed = any(r.status == "done" and r.plan.mutating for r in result.fix)
        refused = sum(r.status == "refused" for r in result.fix)
        summary = ", ".join(f"{n} {s}" for s, n in _count(r.status for r in result.fix).items())
        if result.aborted:
            self.finish(f"aborted ({summary})", "bold red")
        elif refused:
            self.finish(f"read-only: {refused} step(s) refused ({summary})", "bold yellow")
        elif not result.ok:
            self.finish(f"finished with failures ({summary})", "bold red")
        elif not changed:
            self.finish(f"nothing was changed ({summary})", "bold yellow")
        else:
            self.finish(f"fixed ({summary})", "bold green")
        if changed and result.ok and self.seen_since is not None and not result.aborted:
            await self._watch()
        self.settled = True

    def finish(self, text: str, style: str) -> None:
        self.finished = True
        self.current = None
        self.render_steps()
        self.log_line(text, style)
        self.set_state(f"{text}   esc: back to the console", style)

    async def _watch(self) -> None:
        from warroom.runner.watch import watch

        assert self.seen_since is not None
        since = time.time()
        minutes = self.watch_seconds / 60
        self.log_line(f"watching the symptom for {minutes:.1f} min (s: stop)", "bold")

        async def check(seen: int, elapsed: float) -> None:
            left = max(0.0, self.watch_seconds - elapsed)
            self.set_state(f"watching {self.playbook.id}: seen {seen} time(s) since the fix · "
                           f"{int(left) // 60}:{int(left) % 60:02d} left   s: stop  esc: back")

        outcome = await watch(self.seen_since, since=since, duration=self.watch_seconds,
                              interval=self.watch_interval, on_check=check)
        self.watch_outcome = outcome.describe()
        style = "bold red" if outcome.recurred else "bold green"
        self.log_line(("✗ " if outcome.recurred else "✓ ") + self.watch_outcome, style)
        self.set_state(f"{self.watch_outcome}   esc: back to the console", style)

    def on_runner_event(self, event: Progress) -> None:
        """What the runner reports, as marks in the step list and lines in the log."""
        plan, kind = event.plan, event.kind
        key = (plan.phase, plan.number) if plan else None
        label = f"{plan.phase} {plan.number}" if plan else ""
        message = plain(event.message)
        if plan is not None and kind not in ("refused",):
            self.show_plan(plan)
        if kind == "refused" and plan and key:
            self.status[key] = "refused"
            self.log_line(f"⊘ REFUSED (read-only): {label}. {plain(plan.title)}"
                          + (f"  [{plan.call}]" if plan.call else ""), "bold yellow")
            self.render_steps()
        elif kind == "diagnosed" and plan and key:
            self.status[key] = "done"
            self.log_line(Text(f"✓ {label}. {plain(plan.title)}", "green"))
            shown = event.data.get("shown")
            items = shown.items() if isinstance(shown, dict) else [("", shown)]
            for name, value in items:
                self.log_line(f"    {plain(str(name)) + ': ' if name else ''}{plain(_short(value))}")
        elif kind == "executing" and key:
            self.status[key] = "running"
            self.set_state(f"running {label}…", "bold")
            self.log_line(f"→ running {label}: {message}", "cyan")
        elif kind == "output":
            self.log_line(f"  | {message}")
        elif kind == "result" and plan:
            result = event.data.get("result")
            if isinstance(result, dict) and any(k in result for k in plan.params):
                result = {k: result[k] for k in plan.params if k in result}
            self.log_line(f"  result: {plain(_short(result, 300))}")
        elif kind == "verifying":
            self.set_state(f"verifying {label} (attempt {event.data.get('attempt')}): {message}")
        elif kind == "done" and plan and key:
            self.status[key] = "done"
            extra = "  (exit status 0)" if plan.kind == "shell" else ""
            self.log_line(f"✓ {label} done: {message}{extra}", "green")
        elif kind == "failed" and key:
            self.status[key] = "failed"
            self.log_line(f"✗ {label} failed: {message}", "bold red")
        elif kind == "skipped" and key:
            self.status[key] = "skipped"
            self.log_line(f"· {label} {message}", "dim")
        elif kind in ("aborted", "note"):
            self.log_line(message, "bold red" if kind == "aborted" else "")
        self.render_steps()

    def after_failure(self, plan: StepPlan, choice: FailureChoice) -> None:
        key = (plan.phase, plan.number)
        if choice == "retry":
            self.status[key] = "running"
            self.log_line(f"  retrying {plan.phase} {plan.number}", "yellow")
        else:
            self.log_line(f"  {choice}: {plan.phase} {plan.number} stays failed", "yellow")
        self.render_steps()

    # -- keys -------------------------------------------------------------------------

    def action_close(self) -> None:
        if not self.finished:
            self.notify("a step is running; answer its question (esc = no / abort) first",
                        severity="warning", timeout=3)
            return
        self.workers.cancel_group(self, "wizard")
        self.app.pop_screen()

    def action_stop_watch(self) -> None:
        if self.finished and self.watch_outcome is None:
            self.workers.cancel_group(self, "wizard")
            self.watch_outcome = "watch stopped"
            self.set_state("watch stopped   esc: back to the console")

    def action_copy(self) -> None:
        plan = self.current
        text = copy_text(plan) if plan is not None else ""
        if not text:
            self.notify("nothing to copy for this step", timeout=2)
            return
        self.app.copy_to_clipboard(text)
        self.notify("copied to the clipboard", timeout=2)


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def _short(value: Any, limit: int = 200) -> str:
    import json

    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- the console's entry points -------------------------------------------------------------


def store_seen_since(store: IncidentStore, playbook: str, resource: str = "") -> SeenSince:
    """Times the console's live store saw the playbook's symptom (on `resource`) since T."""

    def seen(since: float) -> int:
        since_ms = int(since * 1000)
        count = 0
        ring = store.ring
        for seq in reversed(ring.seqs()):
            record = ring.get(seq)
            if record is None or record.timestamp < since_ms - 60_000:
                break  # older than T (with a minute's slack for late lines): done
            if (record.timestamp >= since_ms and record.matches
                    and record.matches[0].playbook == playbook
                    and (not resource or store.resource_of(record) == resource)):
                count += 1
        for f in store.findings.values():
            if f.kind != "log" and f.playbook == playbook and f.last >= since_ms and (
                    not resource or f.resource == resource):
                count += 1
        return count

    return seen


def start_fix(app: ConsoleApp, event: FixRequested, *, audit_log: str | None = None,
              **options: Any) -> WizardScreen | None:
    """Open the wizard for the finding in `event` (the console's fix hook)."""
    from warroom.errors import UserError
    from warroom.incident.audit import AuditLog
    from warroom.runner.policy import is_read_only

    playbook = app.store.playbooks.get(event.playbook)
    if playbook is None:
        app.notify(f"no playbook '{plain(event.playbook)}' is loaded", severity="warning", timeout=4)
        return None
    if app.session is None:
        app.notify("no AWS session: the wizard needs one", severity="error", timeout=4)
        return None
    try:
        read_only = is_read_only(app.target.read_only, app.session.options.profile)
    except UserError as exc:
        app.notify(str(exc), severity="error", timeout=6)
        return None
    screen = WizardScreen(playbook, app.session, values=event.params, resource=event.resource,
                          resource_kind=event.resource_kind,
                          read_only=read_only, audit=AuditLog(audit_log),
                          seen_since=store_seen_since(app.store, playbook.id, event.resource), **options)
    app.push_screen(screen)
    return screen


def fix_request(argument: str, shown: Any = None) -> FixRequested:
    """`:fix PLAYBOOK [RESOURCE]`: the guidance pane's finding when it shows that playbook."""
    pid, _, resource = argument.strip().partition(" ")
    resource = resource.strip()
    if shown is not None and shown.playbook.id == pid and (not resource or resource == shown.resource):
        return FixRequested(pid, shown.resource, {k: str(v) for k, v in shown.params.items()},
                            shown.resource_kind)
    return FixRequested(pid, resource, {})
