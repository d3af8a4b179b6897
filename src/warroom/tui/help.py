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
        ("?", "this help"), (":", "command: jump to a resource or playbook"),
        ("/", "filter the logs (text or regex; capitals make it case-sensitive)"),
        ("tab / shift+tab", "next / previous pane"), ("esc", "back: close, clear filter, resume"),
        ("ctrl+p", "command palette"), ("q", "quit"))),
    ("Logs", (
        ("↑↓ j k, pgup pgdn, g", "move (pauses following)"), ("End G / f", "follow again / toggle"),
        ("n / N", "next / previous symptom line"), ("enter", "open the line's playbook"),
        ("T", "time window: all, 1m, 5m, 15m, 1h"), ("w / t", "wrap / timestamps"),
        ("m", "add a marker line"), ("s", "save the shown lines to a file"))),
    ("Resources", (("↑↓ j k", "move"), ("enter", "filter the logs to the resource or service"),
                   ("space", "expand / collapse"))),
    ("Findings", (("↑↓ j k", "move (shows the playbook)"), ("enter", "open the playbook"))),
    ("Guidance", (("enter", "start the fix wizard"), ("d", "run the diagnosis again"),
                  ("↑↓ j k", "scroll"))),
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
