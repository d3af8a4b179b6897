"""The `:` command line: jump to a resource or a playbook, k9s style."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input

VERBS = ("resource", "playbook", "filter", "follow", "help", "quit", "fix")


class CommandScreen(ModalScreen[str | None]):
    """A one-line prompt at the bottom; returns the command or None on esc."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        words = [*names, *(f"{v} " for v in VERBS)]
        self.suggester = SuggestFromList(sorted(set(words)), case_sensitive=False)

    def compose(self) -> ComposeResult:
        yield Input(placeholder="resource or playbook name, `playbook ID`, `filter TEXT`, `quit`",
                    suggester=self.suggester, id="command-input")

    def on_mount(self) -> None:
        self.query_one(Input).border_title = ":"

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


def parse(command: str) -> tuple[str, str]:
    """`pb lambda-timeout` -> ("playbook", "lambda-timeout"); a bare word -> ("", word)."""
    verb, _, rest = command.strip().partition(" ")
    aliases = {"res": "resource", "r": "resource", "pb": "playbook", "p": "playbook",
               "f": "filter", "q": "quit", "q!": "quit", "quit": "quit", "h": "help"}
    full = aliases.get(verb.lower(), verb.lower())
    if full in VERBS:
        return full, rest.strip()
    return "", command.strip()
