"""The findings list: one row per playbook and resource, most severe first, still under the cursor."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from warroom.incident.store import ActiveFinding, IncidentStore
from warroom.tui.lines import clock_text, plain
from warroom.tui.messages import PlaybookChosen

SEP = "\x1f"  # joins playbook and resource in an option id; cannot occur in either
MARKS = {"critical": "▲", "high": "●"}  # anything else: "○"; shapes, so NO_COLOR tells them apart
LEGEND = "▲ critical  ● high  ○ medium or low"

Key = tuple[str, str]


class FindingsList(OptionList):
    """Moving the highlight shows the finding's playbook; enter opens its fix wizard.

    While the list has focus its order stays as it is, so `j` lands on the next row you saw;
    findings that appear meanwhile are counted in the title and slotted in when focus leaves
    or on `r`.
    """

    COMPONENT_CLASSES = OptionList.COMPONENT_CLASSES | {
        "findings--id", "findings--count", "findings--time", "findings--severity"}
    BINDINGS = [
        Binding("k", "cursor_up", "Up", show=False),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("enter", "select", "Fix wizard"),
        Binding("r", "resort", "Re-sort"),
    ]

    def __init__(self, store: IncidentStore, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.store = store
        self._version = -1
        self._shown: list[Key] = []
        self._chosen: Key | None = None
        self.waiting = 0  # new findings not slotted in yet (the list has focus)
        self.local_time = False

    def refresh_findings(self, resort: bool = False) -> None:
        """Redraw when the store's findings changed; re-sort only when told or unfocused."""
        if self.store.version == self._version and not resort:
            return
        self._version = self.store.version
        ordered = [f.key for f in self.store.active_findings()]
        keep = self._shown[self.highlighted] if self.highlighted is not None and \
            self.highlighted < len(self._shown) else None
        if self.has_focus and not resort and self._shown:
            current = set(ordered)
            kept = [k for k in self._shown if k in current]
            waiting = len(ordered) - len(kept)
            if waiting > self.waiting:
                self.notify(f"{waiting} new finding(s): r or leaving the list slots them in",
                            timeout=3)
            self.waiting = waiting
            ordered = kept
        else:
            self.waiting = 0
        self._shown = ordered
        findings = self.store.findings
        self.clear_options()
        self.add_options([Option(self._prompt(findings[k]), id=SEP.join(k)) for k in ordered])
        if keep in self._shown and (self.has_focus or keep == self._chosen):
            self.highlighted = self._shown.index(keep)
        elif self._shown:
            self.highlighted = 0  # so that enter works without an arrow key first
        total = len(self.store.findings)
        title = f"Findings ({total})" if total else "Findings"
        self.border_title = title + (f" +{self.waiting} new (r)" if self.waiting else "")

    def _prompt(self, f: ActiveFinding) -> Text:
        style = lambda name: self.get_component_rich_style(f"findings--{name}", partial=True)  # noqa: E731
        width = max(12, self.scrollable_content_region.width - 1)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(MARKS.get(self.store.severity(f), "○") + " ", style("severity"))
        count = f" ×{f.count}"
        text.append(fit(plain(f.playbook), width - 2 - len(count)), style("id"))
        text.append(count, style("count"))
        seen = seen_text(f.first, f.last, self.local_time)
        if width - 3 - len(seen) < 12:  # a narrow column: the resource's name comes first
            seen = seen[-5:] if width - 3 - 5 >= 12 else ""
        room = width - 2 - (len(seen) + 1 if seen else 0)
        text.append("\n  " + fit(plain(f.resource), room).ljust(room))
        if seen:
            text.append(" " + seen, style("time"))
        return text

    def finding_at(self, index: int | None) -> ActiveFinding | None:
        if index is None or index >= len(self._shown):
            return None
        return self.store.findings.get(self._shown[index])

    def _choose(self, index: int | None, again: bool = False, open_fix: bool = False) -> None:
        f = self.finding_at(index)
        if f is not None and (again or f.key != self._chosen):
            self._chosen = f.key
            self.post_message(PlaybookChosen(f.playbook, f.resource, dict(f.captures), f.evidence,
                                             resource_kind=f.resource_kind, open_fix=open_fix))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if self.has_focus:
            self._choose(event.option_index)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """enter: the guidance shows the finding and the fix wizard opens on it."""
        event.stop()
        self._choose(event.option_index, again=True, open_fix=True)

    def on_resize(self) -> None:
        self._version = -1  # the rows are cut to the width
        self.refresh_findings()

    def on_blur(self) -> None:
        if self.waiting:
            self.refresh_findings(resort=True)

    def on_focus(self) -> None:
        self._chosen = None
        self._choose(self.highlighted)  # the guidance shows the row the cursor is on

    def set_local_time(self, local: bool) -> None:
        """Times in local time (True) or UTC, as the logs pane shows them (`z`)."""
        self.local_time = local
        self._version = -1
        self.refresh_findings()

    def action_resort(self) -> None:
        self.refresh_findings(resort=True)

    def select_playbook(self, playbook: str) -> bool:
        for i, (pid, _) in enumerate(self._shown):
            if pid == playbook:
                self.highlighted = i
                self._choose(i, again=True)
                return True
        return False


def seen_text(first: int, last: int, local: bool = False) -> str:
    """`10:15→10:17`: first and last seen, to the minute; one time if they agree."""
    a, b = (clock_text(ms, local)[:5] for ms in (first, last))
    return a if a == b else f"{a}→{b}"


def fit(text: str, width: int) -> str:
    """Cut with an ellipsis so a finding always takes exactly two rows."""
    width = max(1, width)
    return text if len(text) <= width else text[: width - 1] + "…"
