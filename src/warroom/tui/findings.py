"""The findings list: active findings, newest first, with counts and resources."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from warroom.incident.store import ActiveFinding, IncidentStore
from warroom.tui.lines import clock_text, plain
from warroom.tui.messages import PlaybookChosen

SEP = "\x1f"  # joins playbook and resource in an option id; cannot occur in either


class FindingsList(OptionList):
    """Enter or moving the highlight shows the finding's playbook in the guidance pane."""

    COMPONENT_CLASSES = OptionList.COMPONENT_CLASSES | {
        "findings--id", "findings--count", "findings--time", "findings--severity"}
    BINDINGS = [
        Binding("k", "cursor_up", "Up", show=False),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("enter", "select", "Playbook"),
    ]

    def __init__(self, store: IncidentStore, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.store = store
        self._version = -1
        self._shown: list[tuple[str, str]] = []

    def refresh_findings(self) -> None:
        """Rebuild when the store's findings changed, keeping the highlighted one."""
        if self.store.version == self._version:
            return
        self._version = self.store.version
        findings = self.store.active_findings()
        keep = None
        if self.highlighted is not None and self.highlighted < len(self._shown):
            keep = self._shown[self.highlighted]
        self._shown = [f.key for f in findings]
        self.clear_options()
        self.add_options([Option(self._prompt(f), id=SEP.join(f.key)) for f in findings])
        if keep in self._shown:
            self.highlighted = self._shown.index(keep)
        elif self._shown:
            self.highlighted = 0  # so that enter works without an arrow key first
        if self.parent is not None:
            total = len(findings)
            self.border_title = f"Findings ({total})" if total else "Findings"

    def _prompt(self, f: ActiveFinding) -> Text:
        style = lambda name: self.get_component_rich_style(f"findings--{name}", partial=True)  # noqa: E731
        playbook = self.store.playbooks.get(f.playbook)
        severity = playbook.severity if playbook else ""
        width = max(12, self.scrollable_content_region.width - 1)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append({"critical": "▲ ", "high": "● "}.get(severity, "○ "), style("severity"))
        count = f" ×{f.count}"
        text.append(fit(plain(f.playbook), width - 2 - len(count)), style("id"))
        text.append(count, style("count"))
        text.append("\n  " + fit(plain(f.resource), width - 11).ljust(width - 11))
        text.append(" " + clock_text(f.last), style("time"))
        return text

    def finding_at(self, index: int | None) -> ActiveFinding | None:
        if index is None or index >= len(self._shown):
            return None
        return self.store.findings.get(self._shown[index])

    def _choose(self, index: int | None) -> None:
        f = self.finding_at(index)
        if f is not None:
            self.post_message(PlaybookChosen(f.playbook, f.resource, dict(f.captures), f.evidence,
                                             resource_kind=f.resource_kind))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if self.has_focus:
            self._choose(event.option_index)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(event.option_index)

    def select_playbook(self, playbook: str) -> bool:
        for i, (pid, _) in enumerate(self._shown):
            if pid == playbook:
                self.highlighted = i
                self._choose(i)
                return True
        return False


def fit(text: str, width: int) -> str:
    """Cut with an ellipsis so a finding always takes exactly two rows."""
    width = max(1, width)
    return text if len(text) <= width else text[: width - 1] + "…"
