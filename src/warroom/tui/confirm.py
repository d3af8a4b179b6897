"""The console's modals: ask a value, y/N, type the name, retry/skip/abort, mark done, edit,
a path to save to, and whether to quit while a fix runs."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static

from warroom.playbook.model import Input as InputSpec
from warroom.playbook.catalog import data_dir
from warroom.runner.events import StepError, StepPlan
from warroom.tui.footer import KeysFooter
from warroom.tui.lines import plain
from warroom.tui.plan_text import copy_text, plan_text

CSS = [str(data_dir("styles") / "wizard.tcss")]


class _Modal(ModalScreen[Any]):
    CSS_PATH = CSS
    # A modal stops the app's bindings; `q` (where no text box takes it) still reaches quit,
    # which asks first while a fix runs.
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("q", "app.quit", "Quit")]
    CANCEL: Any = None

    @on(events.Mount)
    def _footer(self) -> None:
        # The modal's own footer covers the one of the screen beneath, whose keys do not
        # reach it: what the footer lists is what works.
        self.mount(KeysFooter())

    def action_cancel(self) -> None:
        self.dismiss(self.CANCEL)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.answer(event.button.id or "")

    def answer(self, choice: str) -> None:
        self.dismiss(choice)


def _plan_box(plan: StepPlan) -> VerticalScroll:
    return VerticalScroll(Static(plan_text(plan), markup=False, classes="modal-plan"),
                          classes="modal-plan-box")


class AskModal(_Modal):
    """One value for the runner; a secret uses a password box and is never shown back."""

    def __init__(self, spec: InputSpec, default: Any, problem: str | None = None,
                 plan: StepPlan | None = None) -> None:
        super().__init__()
        self.spec, self.default, self.problem, self.plan = spec, default, problem, plan

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal", id="ask"):
            if self.plan is not None:
                yield _plan_box(self.plan)
            hint = f" ({'/'.join(self.spec.choices)})" if self.spec.choices else ""
            yield Label(Text(plain(self.spec.prompt) + hint, style="bold"), classes="modal-title")
            if self.problem:
                yield Label(Text(plain(self.problem)), classes="modal-problem")
            value = "" if self.default is None or self.spec.secret else str(self.default)
            yield Input(value=value, password=self.spec.secret, id="ask-input",
                        placeholder="secret: not shown, not kept" if self.spec.secret else "")
            yield Label("enter: use this value   esc: cancel (the step is skipped)", classes="modal-keys")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value
        # The secret leaves the widget with the answer: nothing on screen keeps it.
        event.input.value = ""
        self.dismiss(value)


class ConfirmModal(_Modal):
    """y/N for a mutating step; `e` edits its values."""

    BINDINGS = [Binding("y", "pick('yes')", "Run it"),
                Binding("n,N", "pick('no')", "Skip", key_display="n/N"),
                Binding("e", "pick('edit')", "Edit"), Binding("c", "copy", "Copy CLI"),
                Binding("escape", "pick('no')", "No", show=False)]

    def __init__(self, plan: StepPlan) -> None:
        super().__init__()
        self.plan = plan

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal", id="confirm"):
            yield _plan_box(self.plan)
            yield Label(Text("Run this step? It changes AWS.", style="bold"), classes="modal-title")
            with Horizontal(classes="modal-buttons"):
                yield Button("y  run it", id="yes", variant="warning")
                yield Button("N  skip", id="no")
                yield Button("e  edit", id="edit")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_pick(self, choice: str) -> None:
        self.dismiss(choice)

    def action_copy(self) -> None:
        copy_cli(self, self.plan)


def copy_cli(screen: Widget, plan: StepPlan | None) -> None:
    """`c`: the step's AWS CLI equivalent to the clipboard (OSC 52), and say so."""
    text = copy_text(plan) if plan is not None else ""
    if not text:
        screen.notify("nothing to copy for this step", timeout=2)
        return
    screen.app.copy_to_clipboard(text)
    screen.notify("copied the CLI command to the clipboard (OSC 52)", timeout=2)


class TypedModal(_Modal):
    """A destructive step runs only when the resource name is typed exactly."""

    CANCEL = ""

    def __init__(self, plan: StepPlan, expected: str) -> None:
        super().__init__()
        self.plan, self.expected = plan, expected

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal destructive", id="typed"):
            yield _plan_box(self.plan)
            title = Text("Destructive. Type ", style="bold")
            title.append(plain(self.expected), "bold reverse").append(" to confirm:", "bold")
            yield Label(title, classes="modal-title")
            yield Input(id="typed-input")
            yield Label("enter: confirm   esc: do not run", classes="modal-keys")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)


class FailureModal(_Modal):
    """A failed step: the AWS error in plain words; retry, skip or abort."""

    BINDINGS = [Binding("r", "pick('retry')", "Retry"), Binding("s", "pick('skip')", "Skip"),
                Binding("a", "pick('abort')", "Abort"), Binding("escape", "pick('abort')", "Abort")]

    def __init__(self, plan: StepPlan, error: StepError) -> None:
        super().__init__()
        self.plan, self.error = plan, error

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal failed", id="failure"):
            title = Text(f"✗ {self.plan.phase} {self.plan.number}. ", style="bold")
            title.append(plain(self.plan.title), "bold").append(f" failed ({self.error.phase})", "bold")
            yield Label(title, classes="modal-title")
            message = plain(self.error.message) + (f"  [{plain(self.error.code)}]" if self.error.code else "")
            yield Static(Text(message), markup=False, classes="modal-problem")
            with Horizontal(classes="modal-buttons"):
                yield Button("r  retry", id="retry")
                yield Button("s  skip", id="skip")
                yield Button("a  abort", id="abort", variant="error")

    def on_mount(self) -> None:
        self.query_one("#retry", Button).focus()

    def action_pick(self, choice: str) -> None:
        self.dismiss(choice)


class ManualModal(_Modal):
    """A manual step: what to do and the commands to copy; the user marks it done."""

    BINDINGS = [Binding("y", "pick(True)", "Done"),
                Binding("n,N", "pick(False)", "Not done", key_display="n/N"),
                Binding("c", "copy", "Copy"), Binding("escape", "pick(False)", "Not done")]

    def __init__(self, plan: StepPlan) -> None:
        super().__init__()
        self.plan = plan

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal", id="manual"):
            yield _plan_box(self.plan)
            yield Label(Text("Manual step: mark it done when you have done it.", style="bold"),
                        classes="modal-title")
            with Horizontal(classes="modal-buttons"):
                yield Button("y  done", id="done", variant="success")
                yield Button("N  not done", id="not-done")
                if self.plan.commands:
                    yield Button("c  copy", id="copy")

    def answer(self, choice: str) -> None:
        if choice == "copy":
            self.action_copy()
        else:
            self.dismiss(choice == "done")

    def action_pick(self, done: bool) -> None:
        self.dismiss(done)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard("\n".join(self.plan.commands))
        self.notify("commands copied", timeout=2)


class EditModal(_Modal):
    """Change a step's values before it is planned again; empty keeps the current value."""

    def __init__(self, plan: StepPlan, fields: list[tuple[str, str, Any, bool]]) -> None:
        super().__init__()
        self.plan = plan
        self.fields = fields  # (name, label, current value, secret)

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal", id="edit"):
            yield Label(Text(f"Edit: {plain(self.plan.title)}", style="bold"), classes="modal-title")
            with VerticalScroll(classes="modal-fields"):
                for name, label, current, secret in self.fields:
                    yield Label(Text(plain(label)))
                    yield Input(value="" if secret or current is None else str(current),
                                password=secret, id=f"edit-{name}", name=name,
                                placeholder="secret: empty keeps it" if secret else "")
            yield Label("enter: plan the step again with these values   esc: keep as it was",
                        classes="modal-keys")

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        values: dict[str, Any] = {}
        for (name, _label, current, secret), box in zip(self.fields, self.query(Input)):
            text = box.value.strip()
            if text and (secret or text != ("" if current is None else str(current))):
                values[name] = text
            box.value = ""
        self.dismiss(values)


class PathModal(_Modal):
    """Where to write a file: prefilled with a default, enter accepts, esc cancels."""

    def __init__(self, title: str, default: str) -> None:
        super().__init__()
        self.title_text, self.default = title, default

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal", id="path"):
            yield Label(Text(plain(self.title_text), style="bold"), classes="modal-title")
            yield Input(value=self.default, id="path-input")
            yield Label("enter: write a new file (never replaces one)   esc: cancel",
                        classes="modal-keys")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)


class QuitModal(_Modal):
    """y/N before quitting while a fix step runs: quitting stops the run where it is."""

    CANCEL = False
    BINDINGS = [Binding("y", "pick(True)", "Yes"),
                Binding("n,N", "pick(False)", "Stay", key_display="n/N"),
                Binding("escape", "pick(False)", "Stay")]

    def __init__(self, playbook: str, leave: str = "", watching: bool = False) -> None:
        super().__init__()
        self.playbook = playbook
        self.leave = leave          # "" to quit the console; else what leaving closes
        self.watching = watching    # the fix is done and its symptom being watched

    def compose(self) -> ComposeResult:
        verb = f"Leave the {self.leave}" if self.leave else "Quit"
        with Vertical(classes="modal destructive", id="quit"):
            title = Text("Watching the symptom after " if self.watching else "A fix is running: ",
                         style="bold")
            title.append(plain(self.playbook), "bold reverse").append(f". {verb} anyway?", "bold")
            yield Label(title, classes="modal-title")
            yield Label(Text("The watch stops: nobody will be told whether the symptom comes back."
                             if self.watching else
                             f"{'Leaving' if self.leave else 'Quitting'} stops the run where it is: "
                             "a call already sent may still take effect, and no verify or later "
                             "step runs."))
            with Horizontal(classes="modal-buttons"):
                yield Button(f"y  {'leave' if self.leave else 'quit'}", id="yes", variant="error")
                yield Button("N  stay", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def answer(self, choice: str) -> None:
        self.dismiss(choice == "yes")

    def action_pick(self, quit_: bool) -> None:
        self.dismiss(quit_)
