"""The guidance pane: the chosen finding's playbook, its diagnosis and its fix steps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from warroom.playbook.model import Playbook, Step
from warroom.tui.diagnose import StepResult
from warroom.tui.lines import plain
from warroom.tui.messages import FixRequested

_MARKS = {"ok": "✓", "error": "✗", "skipped": "·", "needs": "?", "running": "…"}


@dataclass
class Shown:
    playbook: Playbook
    resource: str
    params: dict[str, Any]
    evidence: str
    results: list[StepResult] | None = None  # None: still running
    resource_kind: str = ""


class GuidancePane(VerticalScroll, can_focus=True):
    """Read-only view of one playbook; enter starts the fix wizard."""

    COMPONENT_CLASSES = {"guidance--heading", "guidance--label", "guidance--ok",
                         "guidance--bad", "guidance--dim", "guidance--key"}
    BINDINGS = [
        Binding("enter", "fix", "Fix wizard"),
        Binding("d", "diagnose", "Re-diagnose"),
        Binding("k", "scroll_up", "Up", show=False),
        Binding("j", "scroll_down", "Down", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown: Shown | None = None
        self.body = Static(Text("Select a finding (or a highlighted log line) to see its playbook.",
                                end=""), id="guidance-body", markup=False)

    def compose(self):  # type: ignore[no-untyped-def]
        yield self.body

    def show(self, shown: Shown) -> None:
        self.shown = shown
        self.border_title = f"Guidance: {plain(shown.playbook.id)}"
        self.render_body()
        self.scroll_home(animate=False)

    def set_results(self, playbook_id: str, resource: str, results: list[StepResult]) -> None:
        if self.shown and self.shown.playbook.id == playbook_id and self.shown.resource == resource:
            self.shown.results = results
            self.render_body()

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"guidance--{name}", partial=True)

    def render_body(self) -> None:
        s = self.shown
        if s is None:
            return
        p = s.playbook
        h, label, dim = self._style("heading"), self._style("label"), self._style("dim")
        t = Text(end="")
        t.append(plain(p.title), h)
        t.append(f"  {p.severity} · {p.service}\n", dim)
        if s.resource:
            t.append("Resource ", label).append(plain(s.resource) + "\n")
        if s.evidence:
            t.append("Seen     ", label).append(plain(s.evidence)[:300] + "\n", dim)
        t.append("Cause    ", label).append(plain(" ".join(p.cause.split())) + "\n")
        if s.params:
            t.append("Params   ", label)
            t.append("  ".join(f"{plain(str(k))}={plain(str(v))}" for k, v in s.params.items()) + "\n")
        if p.diagnose:
            t.append("Diagnose", h).append(" (read-only)\n", dim)
            for i, step in enumerate(p.diagnose):
                result = s.results[i] if s.results is not None and i < len(s.results) else None
                self._diagnose_line(t, step, result)
        t.append("Fix", h)
        t.append("  [enter] start the fix wizard\n", self._style("key"))
        for i, step in enumerate(p.fix, 1):
            flag = " (destructive)" if step.destructive else (
                " (changes AWS)" if step.mutating else "")
            t.append(f" {i}. {plain(step.title)}")
            t.append(flag + "\n", self._style("bad") if step.destructive else dim)
        if p.prevention:
            t.append("Prevent  ", label).append(plain(" ".join(p.prevention.split())), dim)
        self.body.update(t)

    def _diagnose_line(self, t: Text, step: Step, result: StepResult | None) -> None:
        status = result.status if result else "running"
        style = {"ok": self._style("ok"), "error": self._style("bad")}.get(status, self._style("dim"))
        t.append(f" {_MARKS[status]} ", style).append(plain(step.title))
        if result is None:
            t.append(" …\n", self._style("dim"))
            return
        t.append("\n")
        for line in result.lines:
            t.append("     " + plain(line) + "\n", style if status == "error" else "")

    def action_fix(self) -> None:
        if self.shown is None:
            self.notify("select a finding first", timeout=2)
            return
        params = {k: str(v) for k, v in self.shown.params.items()}
        self.post_message(FixRequested(self.shown.playbook.id, self.shown.resource, params,
                                       self.shown.resource_kind))

    def action_diagnose(self) -> None:
        if self.shown is not None:
            from warroom.tui.messages import PlaybookChosen

            self.shown.results = None
            self.render_body()
            self.post_message(PlaybookChosen(self.shown.playbook.id, self.shown.resource,
                                             {k: str(v) for k, v in self.shown.params.items()},
                                             self.shown.evidence, rerun=True,
                                             resource_kind=self.shown.resource_kind))
