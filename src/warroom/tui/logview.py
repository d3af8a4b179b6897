"""The logs pane: a Line API ScrollView over the store's ring, styling only visible rows."""

from __future__ import annotations

import time
from pathlib import Path

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from warroom.incident.records import Record
from warroom.incident.store import IncidentStore, short_group
from warroom.tui import lines
from warroom.tui.logmodel import MARKER_SOURCE, LogModel

_STYLE_NAMES = ("time", "group", "stream", "message", "symptom", "match", "marker", "cursor")


class LogView(ScrollView, can_focus=True):
    """Live merged logs: follow by default, scrolling up pauses, End resumes."""

    COMPONENT_CLASSES = {f"logview--{name}" for name in _STYLE_NAMES}

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup,ctrl+b", "page(-1)", "PgUp", show=False),
        Binding("pagedown,ctrl+f,space", "page(1)", "PgDn", show=False),
        Binding("home,g", "top", "Top", show=False),
        Binding("end,G", "follow", "End/follow"),
        Binding("f", "toggle_follow", "Follow", show=False),
        Binding("n", "symptom(1)", "Next symptom"),
        Binding("N", "symptom(-1)", "Prev", key_display="N"),
        Binding("enter", "choose", "Playbook"),
        Binding("T", "window", "Since"),
        Binding("w", "wrap", "Wrap"),
        Binding("t", "timestamps", "Time"),
        Binding("m", "marker", "Mark"),
        Binding("s", "save", "Save"),
    ]

    class Chosen(Message):
        """A log line with a symptom was picked (enter, or the cursor landed on it)."""

        def __init__(self, record: Record, open_it: bool) -> None:
            super().__init__()
            self.record = record
            self.open_it = open_it

    class StateChanged(Message):
        """Follow, pause, filter or window changed (the pane title shows them)."""

    def __init__(self, store: IncidentStore, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.model = LogModel(store.ring, lambda: int(store.clock() * 1000))
        self.following = True
        self.wrap = False
        self.show_time = True
        self.cursor: int | None = None  # view index; None while following
        self.new_lines = 0              # arrived while paused
        self._group_width = 22
        self._cache_key: tuple[object, ...] | None = None
        self._rows: list[Strip] = []
        self._top = 0
        self._version = 0

    # -- data -------------------------------------------------------------------------

    def ingest(self, seqs: list[int]) -> None:
        """New records were drained into the ring (and possibly old ones dropped)."""
        added = self.model.extend(seqs) if seqs else 0
        gone = self.model.trim()
        if not added and not gone:
            return
        self._version += 1
        if not self.following:
            self.new_lines += added
            if gone:
                if self.cursor is not None:
                    self.cursor = max(0, self.cursor - gone)
                self._set_virtual()
                self.scroll_to(y=max(0, self.scroll_y - gone), animate=False, immediate=True)
            else:
                self._set_virtual()
            self.post_message(self.StateChanged())
        else:
            self._set_virtual()
            self._to_end()
        self.refresh()

    def refilter(self) -> None:
        """Filters changed: rebuild the view and go back to following."""
        self._version += 1
        self.new_lines = 0
        self.cursor = None
        self.following = True
        self._set_virtual()
        self._to_end()
        self.refresh()
        self.post_message(self.StateChanged())

    def _set_virtual(self) -> None:
        size = Size(self.scrollable_content_region.width, len(self.model))
        if size == self.virtual_size:
            return
        # Assigning `virtual_size` asks for a layout of the whole screen, on every batch
        # while the buffer fills; only this view's scrollbars depend on it, so update
        # those (as Textual's own size update does) and repaint this view.
        self.set_reactive(LogView.virtual_size, size)
        self._scroll_update(size)
        self.refresh()

    def _to_end(self) -> None:
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)

    def on_resize(self) -> None:
        self._set_virtual()
        if self.following:
            self._to_end()
            # The scrollable region settles after this event; follow again once it has.
            self.call_after_refresh(self._follow_end)

    def _follow_end(self) -> None:
        if self.following:
            self._to_end()

    # -- layout and rendering ---------------------------------------------------------

    def _styles(self) -> dict[str, Style]:
        return {name: self.get_component_rich_style(f"logview--{name}", partial=True)
                for name in _STYLE_NAMES}

    def _columns(self, width: int) -> lines.Columns:
        groups = self.store.lines.keys()
        longest = max((len(short_group(g)) for g in groups), default=12)
        cap = 14 if width < 100 else 26
        stream = 10 if width >= 150 else 0
        return lines.Columns(time=self.show_time, group_width=max(8, min(longest, cap)),
                             stream_width=stream)

    def _layout(self) -> list[Strip]:
        width = self.scrollable_content_region.width
        height = self.scrollable_content_region.height
        key = (self._version, int(self.scroll_y), width, height, self.wrap, self.show_time,
               self.cursor, self.following, self.model.filter_text)
        if key == self._cache_key:
            return self._rows
        self._cache_key = key
        styles = self._styles()
        cols = self._columns(width)
        n = len(self.model)
        top = int(self.scroll_y)
        if self.wrap and self.following:
            top = self._wrapped_top(n, height, width, cols, styles)
        rows: list[Strip] = []
        i = top
        while len(rows) < height and i < n:
            rows.extend(self._record_rows(i, width, cols, styles))
            i += 1
        self._top = top
        self._rows = rows[:height]
        return self._rows

    def _wrapped_top(self, n: int, height: int, width: int, cols: lines.Columns,
                     styles: dict[str, Style]) -> int:
        used = 0
        i = n
        while i > 0:
            rows = len(self._record_rows(i - 1, width, cols, styles))
            if used + rows > height:
                break
            used += rows
            i -= 1
        return i

    def _record_rows(self, i: int, width: int, cols: lines.Columns,
                     styles: dict[str, Style]) -> list[Strip]:
        record = self.model.record(i)
        console = self.app.console
        if record.source == MARKER_SOURCE:
            texts = [lines.marker(record, width, styles)]
        else:
            head = lines.prefix(record, cols, styles)
            body = lines.message(record, styles, self.model.pattern)
            avail = max(10, width - cols.prefix_width)
            if self.wrap and body.cell_len > avail:
                parts = body.wrap(console, avail, overflow="fold", no_wrap=False)
                texts = [head + parts[0]]
                pad = Text(" " * cols.prefix_width, end="")
                texts.extend(pad + part for part in parts[1:])
            else:
                texts = [head + body]
        out: list[Strip] = []
        base = self.rich_style
        selected = self.cursor == i
        for text in texts:
            text.end = ""
            strip = Strip(text.render(console), text.cell_len)
            strip = strip.crop_extend(0, width, None)
            if not self.wrap and text.cell_len > width and width > 1:
                strip = strip.crop(0, width - 1).extend_cell_length(width)
            if selected:
                strip = strip.apply_style(styles["cursor"])
            out.append(strip.apply_style(base))
        return out

    def render_line(self, y: int) -> Strip:
        rows = self._layout()
        if y < len(rows):
            return rows[y]
        return Strip.blank(self.scrollable_content_region.width, self.rich_style)

    # -- state ------------------------------------------------------------------------

    def pause(self) -> None:
        if self.following:
            self.following = False
            self.new_lines = 0
            self.post_message(self.StateChanged())

    def resume(self) -> None:
        self.following = True
        self.cursor = None
        self.new_lines = 0
        self._to_end()
        self.refresh()
        self.post_message(self.StateChanged())

    def _visible_rows(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def _move_cursor(self, index: int) -> None:
        n = len(self.model)
        if n == 0:
            return
        self.pause()
        self.cursor = max(0, min(n - 1, index))
        height = self._visible_rows()
        if self.cursor < self.scroll_y:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= self.scroll_y + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)
        self.refresh()
        record = self.model.record(self.cursor)
        if record.matches:
            self.post_message(self.Chosen(record, open_it=False))

    def _anchor(self) -> int:
        """Where cursor motion starts: the cursor, or the last visible line when following."""
        if self.cursor is not None:
            return self.cursor
        return min(len(self.model), int(self.scroll_y) + self._visible_rows()) - 1

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        # Scrolling up by wheel or scrollbar pauses, as the keys do.
        if self.following and round(new_value) < round(old_value) and \
                round(new_value) < round(self.max_scroll_y):
            self.pause()

    # -- actions ----------------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        start = self._anchor()
        if self.cursor is None and delta > 0:
            return  # already at the newest line while following
        self._move_cursor(start + delta)

    def action_page(self, direction: int) -> None:
        if self.cursor is None and direction > 0:
            return
        self._move_cursor(self._anchor() + direction * self._visible_rows())

    def action_top(self) -> None:
        self._move_cursor(0)

    def action_follow(self) -> None:
        self.resume()

    def action_toggle_follow(self) -> None:
        if self.following:
            self._move_cursor(self._anchor())
        else:
            self.resume()

    def action_symptom(self, step: int) -> None:
        start = self.cursor if self.cursor is not None else (
            len(self.model) if step < 0 else int(self.scroll_y) - 1)
        found = self.model.find_symptom(start, step)
        if found is None:
            self.notify("no more symptom lines" + (" below" if step > 0 else " above"),
                        timeout=2)
            return
        self._move_cursor(found)

    def action_choose(self) -> None:
        if self.cursor is None:
            i = self.model.find_symptom(len(self.model), -1)
            if i is None:
                self.notify("no symptom line to open", timeout=2)
                return
            self._move_cursor(i)
        assert self.cursor is not None
        record = self.model.record(self.cursor)
        if not record.matches:
            self.notify("no known symptom on this line", timeout=2)
            return
        self.post_message(self.Chosen(record, open_it=True))

    def action_window(self) -> None:
        label = self.model.cycle_window()
        self.refilter()
        self.notify(f"showing {'all lines' if label == 'all' else 'the last ' + label}", timeout=2)

    def action_wrap(self) -> None:
        self.wrap = not self.wrap
        self._version += 1
        self.refresh()

    def action_timestamps(self) -> None:
        self.show_time = not self.show_time
        self._version += 1
        self.refresh()

    def action_marker(self) -> None:
        now = int(self.store.clock() * 1000)
        self.store.push([Record(MARKER_SOURCE, "", "", now, f"marker-{now}",
                                f"marker {lines.clock_text(now)}")])

    def action_save(self) -> None:
        path = Path.cwd() / time.strftime("warroom-logs-%Y%m%d-%H%M%S.log",
                                          time.gmtime(self.store.clock()))
        try:
            count = self.save(path)
        except OSError as exc:
            self.notify(f"could not save: {exc.strerror or exc}", severity="error")
            return
        self.notify(f"saved {count} lines to {path}", timeout=4)

    def save(self, path: Path) -> int:
        """Write the lines the view holds (with its filters) to `path`; returns how many."""
        with path.open("w", encoding="utf-8") as out:
            for i in range(len(self.model)):
                out.write(lines.file_line(self.model.record(i)) + "\n")
        return len(self.model)

    # -- title ------------------------------------------------------------------------

    def status_text(self) -> str:
        if self.following:
            return "● follow"
        more = f" · {self.new_lines} new lines (End)" if self.new_lines else " (End resumes)"
        return f"❚❚ paused{more}"
