"""The `?` help screen: every key, by pane."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Everywhere", (
        ("?", "this help"), (":", "command: a resource, playbook or command, fuzzy; tab completes"),
        ("/", "filter the logs (text or regex; capitals make it case-sensitive)"),
        ("tab / shift+tab", "next / previous pane"), ("esc", "back: close, clear filter, resume"),
        ("C", "changes: what changed before the symptoms"),
        (":scope :region", "change the scope (stack, tag, prefix) or regions, no restart"),
        (":profile NAME", "switch AWS profile, no restart"),
        (":pattern P | off", "read only events matching a CloudWatch filter pattern, at the source"),
        ("ctrl+p", "command palette"), ("q", "quit (asks first while a fix runs)"))),
    ("Logs", (
        ("↑↓ j k, pgup pgdn, g", "move (pauses following)"), ("End G / f", "follow again / toggle"),
        ("n / N", "next / previous symptom line (following: the newest)"),
        ("enter", "open the line's playbook"), ("c", "copy the selected line (OSC 52)"),
        ("R", "the selected line's request, every group, in time order (older lines from CloudWatch)"),
        ("T", "time window: all, 1m, 5m, 15m, 1h"), ("w / t", "wrap / timestamps"),
        ("z", "times in UTC / local time"), ("J", "JSON events as written / as LEVEL message"),
        ("m", "add a marker line"), ("s", "save the shown lines to a new file"))),
    ("Resources", (("↑↓ j k", "move"), ("enter", "filter the logs to the resource or service"),
                   ("space", "expand / collapse"))),
    ("Findings", (("↑↓ j k", "move (shows the playbook in Guidance)"),
                  ("enter", "open the fix wizard on the finding"),
                  ("r", "slot in new findings (the order holds while you are here)"),
                  ("▲ ● ○", "severity: critical, high, medium or low"),
                  ("×N  10:15→10:17", "times seen, first → last seen"))),
    ("Guidance", (("enter", "start the fix wizard"), ("d", "run the diagnosis again"),
                  ("r", "put the top suspect change back"), ("↑↓ j k", "scroll"))),
    ("Fix wizard", (("y / n N", "run the step / skip it"), ("e", "edit the step's values"),
                    ("c", "copy the step's AWS CLI command"),
                    ("s", "stop watching after the fix"),
                    ("q / esc", "back to the console (asks while a step or watch runs)"))),
)


def help_text() -> Text:
    t = Text(end="")
    for section, keys in KEYS:
        t.append(f"{section}\n", "bold")
        for key, what in keys:
            t.append(f"  {key:<22}", "bold").append(f"{what}\n")
    return t


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(help_text(), markup=False)

    def on_mount(self) -> None:
        self.query_one("#help-box").border_title = "Keys"
