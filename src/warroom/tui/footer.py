"""The footer, with `? Help` and `q Quit` first so that a narrow terminal never cuts them off."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

FIRST = ("question_mark", "q", "escape")  # help, quit, and the wizard's q/esc back


class KeysFooter(Footer):
    """Textual's footer lists the focused pane's keys first; this one starts with help and quit."""

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())

        def rank(widget: object) -> int:
            key = widget.key if isinstance(widget, FooterKey) else ""
            return FIRST.index(key) if key in FIRST else len(FIRST)

        yield from sorted(widgets, key=rank)  # stable: the rest keep Textual's order
