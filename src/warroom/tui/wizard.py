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
from textual.screen import ModalScreen, Screen
from textual.widgets import RichLog, Static

from warroom.playbook.catalog import data_dir
from warroom.playbook.model import Playbook
from warroom.runner.events import RunResult, StepPlan
from warroom.tui.footer import KeysFooter
from warroom.tui.lines import plain
from warroom.tui.messages import FixRequested
from warroom.tui.plan_text import plan_text
from warroom.tui.wizard_messages import (
    EditWanted, FailureChosen, Question, RunAborted, RunNote, StepAnswered, StepDiagnosed,
    StepDone, StepExecuting, StepFailed, StepOutput, StepRefused, StepSkipped, StepVerifying)

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
    BINDINGS = [Binding("escape,q", "close", "Back", key_display="q/esc"),
                Binding("c", "copy", "Copy CLI"),
                Binding("s", "stop_watch", "Stop watching", show=False)]

    def __init__(self, playbook: Playbook, session: AwsSession, *, runner: Runner | None = None,
                 prompter: WizardPrompter | None = None, values: Mapping[str, Any] | None = None,
                 resource: str = "", resource_kind: str = "", read_only: bool = False,
                 audit: AuditLog | None = None,
                 seen_since: SeenSince | None = None, watch_seconds: float = WATCH_SECONDS,
                 watch_interval: float = WATCH_INTERVAL, poll_interval: float = 1.0) -> None:
        """`runner` and its `prompter` come in built (`start_fix`); without them, from the rest."""
        from warroom.runner.engine import Runner
        from warroom.tui.wizard_prompter import WizardPrompter

        super().__init__()
        self.playbook = playbook
        self.session = session
        self.resource = resource
        self.read_only = read_only
        self.seen_since = seen_since
        self.watch_seconds = watch_seconds
        self.watch_interval = watch_interval
        if runner is None:
            prompter = WizardPrompter()
            runner = Runner(playbook, prompter, session, values=dict(values or {}),
                            resource=resource or None, resource_kind=resource_kind,
                            read_only=read_only, audit=audit, poll_interval=poll_interval)
        assert prompter is not None, "a runner comes with its prompter"
        self.runner: Runner = runner
        self.prompter: WizardPrompter = prompter
        prompter.connect(self)
        self.asking: ModalScreen[Any] | None = None  # the open question
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
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#wz-steps").border_title = "Steps"
        self.query_one("#wz-detail").border_title = "Step"
        self.query_one("#wz-log").border_title = "Progress"
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
        self.render_steps()

    def _first_unfinished(self) -> StepPlan | None:
        """The first unfinished step with what is known now, marked running."""
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
        self.set_state(f"{text}   q/esc: back to the console", style)

    async def _watch(self) -> None:
        from warroom.runner.watch import watch

        assert self.seen_since is not None
        since = time.time()
        minutes = self.watch_seconds / 60
        self.log_line(f"watching the symptom for {minutes:.1f} min (s: stop)", "bold")

        async def check(seen: int, elapsed: float) -> None:
            left = max(0.0, self.watch_seconds - elapsed)
            self.set_state(f"watching {self.playbook.id}: seen {seen} time(s) since the fix · "
                           f"{int(left) // 60}:{int(left) % 60:02d} left   s: stop  q/esc: back")

        outcome = await watch(self.seen_since, since=since, duration=self.watch_seconds,
                              interval=self.watch_interval, on_check=check)
        self.watch_outcome = outcome.describe()
        style = "bold red" if outcome.recurred else "bold green"
        self.log_line(("✗ " if outcome.recurred else "✓ ") + self.watch_outcome, style)
        self.set_state(f"{self.watch_outcome}   q/esc: back to the console", style)

    # -- what the prompter says -------------------------------------------------------

    def _label(self, plan: StepPlan) -> str:
        return f"{plan.phase} {plan.number}"

    def _mark(self, plan: StepPlan, status: str) -> None:
        self.status[(plan.phase, plan.number)] = status
        self.render_steps()

    def on_question(self, event: Question) -> None:
        """Show the step the question is about and the modal; its answer goes to the runner."""
        plan = event.plan or self._first_unfinished()
        if event.plan is not None:
            self.show_plan(plan)
        self.set_state(event.state, event.state_style)
        answer = event.answer

        def answered(value: Any) -> None:
            self.asking = None
            if not answer.done():
                answer.set_result(value)

        self.asking = event.modal(plan)
        self.app.push_screen(self.asking, answered)

    def on_edit_wanted(self, event: EditWanted) -> None:
        from warroom.tui.confirm import EditModal

        self.on_question(Question(lambda plan: EditModal(event.plan, self._fields(event.plan)),
                                  event.plan, f"editing {self._label(event.plan)}", event.answer))

    def _fields(self, plan: StepPlan) -> list[tuple[str, str, Any, bool]]:
        """What can be edited: the step's inputs, the parameters it uses, its directory."""
        from warroom.runner.inputs import CWD_INPUT
        from warroom.runner.plans import referenced

        values = self.runner.values
        step = plan.step
        fields = [(i.name, i.prompt, None if i.secret else values.get(i.name), i.secret) for i in step.inputs]
        inputs = {i.name for i in step.inputs}
        for name in sorted(referenced(step, text=False)):
            param = self.playbook.param(name)
            if name not in inputs and param is not None:
                fields.append((name, param.description or name, values.get(name), False))
        if plan.kind == "shell":
            fields.append((CWD_INPUT, "Working directory", plan.cwd, False))
        return fields

    def on_step_refused(self, event: StepRefused) -> None:
        plan = event.plan
        self.log_line(f"⊘ REFUSED (read-only): {self._label(plan)}. {plain(plan.title)}"
                      + (f"  [{plan.call}]" if plan.call else ""), "bold yellow")
        self._mark(plan, "refused")

    def on_step_diagnosed(self, event: StepDiagnosed) -> None:
        plan = event.plan
        self.show_plan(plan)
        self.log_line(Text(f"✓ {self._label(plan)}. {plain(plan.title)}", "green"))
        shown = event.shown
        items = shown.items() if isinstance(shown, dict) else [("", shown)]
        for name, value in items:
            self.log_line(f"    {plain(str(name)) + ': ' if name else ''}{plain(_short(value))}")
        self._mark(plan, "done")

    def on_step_executing(self, event: StepExecuting) -> None:
        self.show_plan(event.plan)
        self.set_state(f"running {self._label(event.plan)}…", "bold")
        self.log_line(f"→ running {self._label(event.plan)}: {plain(event.message)}", "cyan")
        self._mark(event.plan, "running")

    def on_step_output(self, event: StepOutput) -> None:
        self.log_line(f"  | {plain(event.message)}")

    def on_step_answered(self, event: StepAnswered) -> None:
        plan, result = event.plan, event.result
        if isinstance(result, dict) and any(k in result for k in plan.params):
            result = {k: result[k] for k in plan.params if k in result}
        self.log_line(f"  result: {plain(_short(result, 300))}")

    def on_step_verifying(self, event: StepVerifying) -> None:
        self.set_state(f"verifying {self._label(event.plan)} (attempt {event.attempt}): "
                       f"{plain(event.message)}")

    def on_step_done(self, event: StepDone) -> None:
        plan = event.plan
        extra = "  (exit status 0)" if plan.kind == "shell" else ""
        self.show_plan(plan)
        self.log_line(f"✓ {self._label(plan)} done: {plain(event.message)}{extra}", "green")
        self._mark(plan, "done")

    def on_step_failed(self, event: StepFailed) -> None:
        self.show_plan(event.plan)
        self.log_line(f"✗ {self._label(event.plan)} failed: {plain(event.message)}", "bold red")
        self._mark(event.plan, "failed")

    def on_step_skipped(self, event: StepSkipped) -> None:
        self.show_plan(event.plan)
        self.log_line(f"· {self._label(event.plan)} {plain(event.message)}", "dim")
        self._mark(event.plan, "skipped")

    def on_run_aborted(self, event: RunAborted) -> None:
        self.log_line(plain(event.message), "bold red")

    def on_run_note(self, event: RunNote) -> None:
        self.log_line(plain(event.message), event.style)

    def on_failure_chosen(self, event: FailureChosen) -> None:
        plan, choice = event.plan, event.choice
        if choice == "retry":
            self.log_line(f"  retrying {self._label(plan)}", "yellow")
            self._mark(plan, "running")
        else:
            self.log_line(f"  {choice}: {self._label(plan)} stays failed", "yellow")

    # -- keys -------------------------------------------------------------------------

    def action_close(self) -> None:
        """q / esc: back to the console; while a step runs or the watch is on, ask first."""
        from warroom.tui.confirm import QuitModal

        if self.settled or self.watch_outcome is not None:
            self._leave(True)
        elif not any(isinstance(s, QuitModal) for s in self.app.screen_stack):
            self.app.push_screen(QuitModal(self.playbook.id, leave="fix wizard",
                                           watching=self.finished), self._leave)

    def _leave(self, yes: bool | None) -> None:
        if yes and self.is_attached and self.app.screen is self:
            self.workers.cancel_group(self, "wizard")
            self.app.pop_screen()

    def action_stop_watch(self) -> None:
        if self.finished and self.watch_outcome is None:
            self.workers.cancel_group(self, "wizard")
            self.watch_outcome = "watch stopped"
            self.set_state("watch stopped   q/esc: back to the console")

    def action_copy(self) -> None:
        from warroom.tui.confirm import copy_cli

        copy_cli(self, self.current)


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
              poll_interval: float = 1.0, **options: Any) -> WizardScreen | None:
    """Open the wizard for the finding in `event` (the console's fix hook)."""
    from warroom.incident.audit import AuditLog
    from warroom.runner.engine import Runner
    from warroom.tui.wizard_prompter import WizardPrompter

    playbook = app.store.playbooks.get(event.playbook)
    if playbook is None:
        app.notify(f"no playbook '{plain(event.playbook)}' is loaded", severity="warning", timeout=4)
        return None
    session = app.session_for(event.resource)  # the resource's region when there are several
    if session is None:
        app.notify("no AWS session: the wizard needs one", severity="error", timeout=4)
        return None
    read_only = app.target.read_only  # the settings': the flag, or the config file for the profile
    prompter = WizardPrompter()
    runner = Runner(playbook, prompter, session, values=event.params,
                    resource=event.resource or None, resource_kind=event.resource_kind,
                    read_only=read_only, audit=AuditLog(audit_log), poll_interval=poll_interval)
    screen = WizardScreen(playbook, session, runner=runner, prompter=prompter,
                          resource=event.resource, read_only=read_only,
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
