"""The status bar: where the console is connected and how each source is doing."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from warroom.incident.store import IncidentStore
from warroom.tui.lines import plain


@dataclass(frozen=True)
class Target:
    """The account the console watches, as shown in the status bar."""

    region: str = ""               # one, or several as `us-east-1,eu-west-1`
    account: str = ""
    endpoint: str = ""
    read_only: bool = False
    profile: str = ""              # shown when one was chosen
    scope: str = ""                # shown when it is not everything


class StatusBar(Static):
    COMPONENT_CLASSES = {"status--ok", "status--bad", "status--warn", "status--dim"}

    def __init__(self, store: IncidentStore, target: Target, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.store = store
        self.target = target

    def on_mount(self) -> None:
        self.refresh_status()

    def refresh_status(self) -> None:
        style = lambda n: self.get_component_rich_style(f"status--{n}", partial=True)  # noqa: E731
        s = self.store.stats
        t = Text(no_wrap=True, overflow="ellipsis", end="")
        narrow = self.size.width and self.size.width < 100
        marks = {"ok": ("● ", "ok"), "recovered": ("● recovered ", "ok"),
                 "connecting": ("◌ connecting ", "warn"), "failing": ("✗ ", "bad"),
                 "stalled": ("◐ stalled ", "warn"), "starting": ("◌ ", "warn")}
        mark, kind = marks.get(s.connection, ("? ", "warn"))
        t.append(mark, style(kind))
        if s.connection in ("failing", "stalled", "starting"):
            t.append(self._said(s.failing, s.message) + " · ", style(kind))
        tg = self.target
        parts = [plain(tg.profile)] if tg.profile else []
        parts.append(plain(tg.region) or "no region")
        if tg.account:
            parts.append(tg.account if narrow else f"acct {tg.account}")
        if tg.scope and not narrow:
            parts.append(f"scope {plain(tg.scope)}")
        if tg.endpoint and not narrow:
            parts.append(plain(tg.endpoint))
        t.append(" · ".join(parts), style("dim"))
        t.append(f" · {self.store.rate:,.0f} ev/s")
        if s.logs and not narrow:
            t.append(f" · {plain(s.logs)}", style("warn") if "sampled" in s.logs or "refused" in s.logs else "")
        dropped = self.store.dropped + s.source_dropped
        t.append(f" · {dropped:,} dropped", style("warn") if dropped else "")
        if s.throttled or not narrow:
            t.append(f" · {s.throttled:,} throttled", style("warn") if s.throttled else "")
        if self.store.pending:
            t.append(f" · {len(self.store.pending):,} queued", style("warn"))
        if tg.read_only:
            t.append(" · read-only", style("warn"))
        self.update(t)

    def _said(self, source: str, message: str) -> str:
        """A source's message, naming the source when the message does not, and how many
        other sources are failing too."""
        text = plain(message)[:200]
        if source and not text.startswith(source):
            text = f"{plain(source)}: {text}"
        others = sum(1 for name, state in self.store.sources.items()
                     if name != source and state.connection == "failing")
        return text + (f" (and {others} more failing)" if others else "")
