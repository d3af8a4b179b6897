"""The guidance pane: the chosen finding's playbook, its diagnosis and its fix steps."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from warroom.incident.changes import Suspect
from warroom.playbook.model import Playbook, Step
from warroom.runner.events import StepResult
from warroom.tui.lines import plain
from warroom.tui.messages import FixRequested

_MARKS = {"done": "✓", "failed": "✗", "skipped": "·", "needs": "?", "running": "…"}
_SHOWN_FIELDS = 6    # fields of a response shown when the step names none
_SHOWN_WIDTH = 160   # characters of one field's value


@dataclass
class Shown:
    playbook: Playbook
    resource: str
    params: dict[str, Any]
    evidence: str
    results: list[StepResult] | None = None  # None: still running
    resource_kind: str = ""
    suspects: list[Suspect] | None = None    # None: not looked up (yet)


class GuidancePane(VerticalScroll, can_focus=True):
    """Read-only view of one playbook; enter starts the fix wizard."""

    COMPONENT_CLASSES = {"guidance--heading", "guidance--label", "guidance--ok",
                         "guidance--bad", "guidance--dim", "guidance--key"}
    BINDINGS = [
        Binding("enter", "fix", "Fix wizard"),
        Binding("d", "diagnose", "Re-diagnose"),
        Binding("r", "revert", "Revert suspect"),
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
        self.border_title = Content(f"Guidance: {plain(shown.playbook.id)}")
        self.render_body()
        self.scroll_home(animate=False)

    def set_results(self, playbook_id: str, resource: str, results: list[StepResult]) -> None:
        if self.shown and self.shown.playbook.id == playbook_id and self.shown.resource == resource:
            self.shown.results = results
            self.render_body()

    def set_suspects(self, playbook_id: str, resource: str, suspects: list[Suspect]) -> None:
        if self.shown and self.shown.playbook.id == playbook_id and self.shown.resource == resource:
            self.shown.suspects = suspects
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
        if s.suspects:
            from warroom.tui.changes_view import suspect_lines

            t.append("Suspects", h).append("  changed before it; [r] put the top revertible one back\n",
                                           self._style("key"))
            for line, revertible in suspect_lines(s.suspects):
                t.append(" • " + plain(line)).append(" (revertible)\n" if revertible else "\n", dim)
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
        style = {"done": self._style("ok"), "failed": self._style("bad")}.get(status, self._style("dim"))
        t.append(f" {_MARKS.get(status, '·')} ", style).append(plain(step.title))
        if result is None:
            t.append(" …\n", self._style("dim"))
            return
        t.append("\n")
        for line in _result_lines(result):
            t.append("     " + plain(line) + "\n", style if status == "failed" else "")

    def fix_request(self) -> FixRequested | None:
        """The fix wizard's request for what the pane shows, with the values it worked out."""
        if self.shown is None:
            return None
        params = {k: str(v) for k, v in self.shown.params.items()}
        return FixRequested(self.shown.playbook.id, self.shown.resource, params,
                            self.shown.resource_kind)

    def action_fix(self) -> None:
        request = self.fix_request()
        if request is None:
            self.notify("select a finding first", timeout=2)
            return
        self.post_message(request)

    def action_revert(self) -> None:
        if self.shown is None or not self.shown.suspects:
            self.notify("no suspect change to put back", timeout=2)
            return
        from warroom.runner import revert
        from warroom.tui.changes_view import request_revert

        suspects = [x.change for x in self.shown.suspects]
        target = next((c for c in suspects if revert.plan(c) is not None), suspects[0])
        request_revert(self.app, target)  # type: ignore[arg-type]

    def action_diagnose(self) -> None:
        if self.shown is not None:
            from warroom.tui.messages import PlaybookChosen

            self.shown.results = None
            self.render_body()
            self.post_message(PlaybookChosen(self.shown.playbook.id, self.shown.resource,
                                             {k: str(v) for k, v in self.shown.params.items()},
                                             self.shown.evidence, rerun=True,
                                             resource_kind=self.shown.resource_kind))


def _result_lines(result: StepResult) -> list[str]:
    """What a diagnose step found (already masked by the runner), or why it did not run."""
    if result.status == "needs":
        return [f"needs {', '.join(result.needs)} (the fix wizard asks)"]
    if result.error is not None:
        return [result.error.message]
    if result.status != "done":
        return [result.plan.manual] if result.plan.manual else []
    found = result.result
    if not isinstance(found, dict):
        return [_clip(found)]
    return [f"{name} = {_clip(value)}" for name, value in list(found.items())[:_SHOWN_FIELDS]]


def _clip(value: Any) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)
    return text if len(text) <= _SHOWN_WIDTH else text[:_SHOWN_WIDTH - 1] + "…"
