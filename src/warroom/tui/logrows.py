"""The rows of the logs pane's screen: each event laid out (its prefix, its lines, wrapped
or cut, the cursor's style) only while it is on screen."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from warroom.incident.records import Record
from warroom.incident.store import short_group
from warroom.tui import lines
from warroom.tui.logmodel import MARKER_SOURCE, LogModel


@dataclass(frozen=True)
class Look:
    """How the pane shows events, each toggled by a key; and what it draws them with."""

    wrap: bool
    show_time: bool
    local_time: bool
    raw_json: bool
    styles: dict[str, Style]
    base: Style         # the pane's own style, beneath every row
    console: Console    # renders the rows' text

    def columns(self, width: int, groups: Iterable[str]) -> lines.Columns:
        """The prefix's columns at this width; the group column fits the groups' short names."""
        longest = max((len(short_group(g)) for g in groups), default=12)
        cap = 8 if width < 70 else 14 if width < 100 else 26  # the message keeps half the width
        stream = 10 if width >= 150 else 0
        return lines.Columns(time=self.show_time, group_width=max(8, min(longest, cap)),
                             stream_width=stream, local_time=self.local_time)


@dataclass(frozen=True)
class Place:
    """The screen's size and what it shows: the newest events while following, else those
    from `top` down, with the `cursor`'s event in view."""

    width: int
    height: int
    following: bool
    top: int
    cursor: int | None


class ScreenRows:
    """The rows of a screen of the model's events, laid out in the given look."""

    def __init__(self, model: LogModel) -> None:
        self.model = model

    def screen(self, place: Place, look: Look, cols: lines.Columns) -> list[Strip]:
        """At most `place.height` rows."""
        n = len(self.model)
        if place.following:
            return self.ending_at(n, place, look, cols)[1][:place.height]
        rows: list[Strip] = []
        i = top = place.top
        while len(rows) < place.height and i < n:
            rows.extend(self.event(i, place, look, cols))
            i += 1
        cursor = place.cursor
        if cursor is not None and cursor >= top and (
                i <= cursor or (i == cursor + 1 and len(rows) > place.height)):
            # The cursor's event is below the screen or cut off: it ends the screen instead.
            _, rows = self.ending_at(cursor + 1, place, look, cols)
        return rows[:place.height]

    def ending_at(self, end: int, place: Place, look: Look, cols: lines.Columns) -> tuple[int, list[Strip]]:
        """The first event and the rows of a screen whose last event is `end - 1`.

        Events may take several rows; the last one is shown from its start even when it is
        taller than the screen.
        """
        parts: list[list[Strip]] = []
        used = 0
        i = end
        while i > 0:
            rows = self.event(i - 1, place, look, cols)
            if used + len(rows) > place.height and i < end:
                break
            parts.append(rows)
            used += len(rows)
            i -= 1
        return i, [row for rows in reversed(parts) for row in rows]

    def event(self, i: int, place: Place, look: Look, cols: lines.Columns) -> list[Strip]:
        """The rows of event `i`: one, or more when it has line breaks or wraps."""
        record = self.model.record(i)
        width, styles = place.width, look.styles
        if record.source == MARKER_SOURCE:
            texts = [lines.marker(record, width, styles)]
        else:
            texts = self._event_texts(record, width, look, cols)
        out: list[Strip] = []
        for text in texts:
            text.end = ""
            strip = Strip(text.render(look.console), text.cell_len)
            strip = strip.crop_extend(0, width, None)
            if not look.wrap and text.cell_len > width and width > 1:
                strip = strip.crop(0, width - 1).extend_cell_length(width)
            if place.cursor == i:
                strip = strip.apply_style(styles["cursor"])
            out.append(strip.apply_style(look.base))
        return out

    def _event_texts(self, record: Record, width: int, look: Look, cols: lines.Columns) -> list[Text]:
        head = lines.prefix(record, cols, look.styles)
        body = lines.event_lines(record, look.styles, self.model.pattern, look.raw_json)
        avail = max(10, width - cols.prefix_width)
        pad = Text(" " * cols.prefix_width, end="")
        indent = pad + Text("  ", end="")  # continuation lines of one event sit further in
        texts: list[Text] = []
        for n, line in enumerate(body):
            room = avail if n == 0 else avail - 2
            parts = line.wrap(look.console, room, overflow="fold", no_wrap=False) \
                if look.wrap and line.cell_len > room else [line]
            texts.append((head if n == 0 else indent) + parts[0])
            texts.extend((pad if n == 0 else indent) + part for part in parts[1:])
            if len(texts) > lines.MAX_EVENT_LINES:  # a huge event wrapped: a screenful
                del texts[lines.MAX_EVENT_LINES + 1:]
                break
        return texts
