"""Command palette entries: resources, playbooks and the console's actions."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

from warroom.tui.lines import plain

if TYPE_CHECKING:
    from warroom.tui.main_screen import MainScreen


class ConsoleCommands(Provider):
    """Jump to a resource, open a playbook, or run a pane action by name."""

    def _entries(self) -> list[tuple[str, str, object]]:
        screen: MainScreen = self.screen  # type: ignore[assignment]
        if not hasattr(screen, "jump"):
            return []
        out: list[tuple[str, str, object]] = []
        for name in screen.resource_names():
            out.append((f"resource {name}", "filter the logs to this resource",
                        partial(screen.jump, "resource", name)))
        for pid, title in screen.playbook_titles():
            out.append((f"playbook {pid}", title, partial(screen.jump, "playbook", pid)))
        for label, action, what in (
                ("follow logs", "follow", "jump to the newest line and follow"),
                ("wrap logs", "wrap", "toggle wrapping long lines"),
                ("timestamps", "timestamps", "toggle the time column"),
                ("time window", "window", "cycle all / 1m / 5m / 15m / 1h"),
                ("marker", "marker", "add a marker line to the logs"),
                ("save logs", "save", "save the shown lines to a file"),
                ("clear filters", "clear", "show every log line again")):
            out.append((label, what, partial(screen.log_action, action)))
        return out

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, help_text, callback in self._entries():
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, highlight(matcher, label), callback,  # type: ignore[arg-type]
                          help=Content(plain(help_text)))  # type: ignore[arg-type]

    async def discover(self) -> Hits:
        for label, help_text, callback in self._entries():
            yield DiscoveryHit(Content(plain(label)), callback,  # type: ignore[arg-type]
                               help=Content(plain(help_text)))  # type: ignore[arg-type]


def highlight(matcher: Matcher, label: str) -> Content:
    """The label with the matched letters styled, as plain text.

    `Matcher.highlight` parses its argument as markup, and `escape` does not cover every
    tag (`[$LATEST]`, `[A]`), so the match is styled on a literal Content instead. Hit and
    help are typed `str` but taken through `Content.from_markup`, which keeps a Content.
    """
    shown = plain(label)
    content = Content(shown)
    _, offsets = matcher.fuzzy_search.match(matcher.query, shown)
    for offset in offsets:
        content = content.stylize(matcher.match_style, offset, offset + 1)
    return content
