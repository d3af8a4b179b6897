"""The logs pane: a Line API ScrollView over the store's ring, styling only visible rows."""

from __future__ import annotations

import time
from pathlib import Path

from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from warroom.incident.records import Record
from warroom.incident.source_events import Found
from warroom.incident.store import IncidentStore
from warroom.tui import lines
from warroom.tui.logmodel import MARKER_SOURCE, LogModel
from warroom.tui.logrows import Look, Place, ScreenRows
from warroom.tui.savefile import NotWritten, create_private

# A filter change searches the buffer for this long at once (the screen's worth of newest
# lines is found well within it); the rest is searched in slices of this long, one after
# each frame (keys between them), and fills in above.
FILTER_SLICE = 0.01
SCAN_SLICE = 0.01

_STYLE_NAMES = ("time", "group", "stream", "message", "symptom", "match", "marker", "cursor",
                "level-error", "level-warn", "level-info", "level-debug")


class LogView(ScrollView, can_focus=True):
    """Live merged logs: follow by default, scrolling up pauses, End resumes.

    The scroll position counts events, not rows: an event with line breaks (a traceback),
    or a long one while wrapping, takes several rows and is laid out only when on screen.
    """

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
        Binding("c", "copy", "Copy line"),
        Binding("R", "request", "Request", key_display="R", show=False),
        Binding("T", "window", "Since", show=False),
        Binding("w", "wrap", "Wrap"),
        Binding("t", "timestamps", "Time", show=False),
        Binding("z", "zone", "UTC/local", show=False),
        Binding("J", "raw_json", "Raw JSON", key_display="J", show=False),
        Binding("m", "marker", "Mark", show=False),
        Binding("s", "save", "Save", show=False),
    ]

    class Chosen(Message):
        """A log line with a symptom was picked (enter, or the cursor landed on it)."""

        def __init__(self, record: Record, open_it: bool) -> None:
            super().__init__()
            self.record = record
            self.open_it = open_it

    class StateChanged(Message):
        """Follow, pause, filter or window changed (the pane title shows them)."""

    class RequestShown(Message):
        """R showed a request's lines from the buffer: older ones may still be in CloudWatch,
        in the groups its lines came from."""

        def __init__(self, request_id: str, at_ms: int, groups: frozenset[str]) -> None:
            super().__init__()
            self.request_id = request_id
            self.at_ms = at_ms
            self.groups = groups

    def __init__(self, store: IncidentStore, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.model = LogModel(store.ring, lambda: int(store.clock() * 1000), slice_s=FILTER_SLICE)
        self.event_rows = ScreenRows(self.model)
        self.following = True
        self.lookup: tuple[int, int] | None = None  # R's CloudWatch lookup: (token, tails yet to answer)
        self._reordered = store.reordered
        self.wrap = False
        self.show_time = True
        self.local_time = False         # z: the time column in local time instead of UTC
        self.raw_json = False           # J: JSON events as written instead of LEVEL message k=v
        self.cursor: int | None = None  # view index; None while following
        self.new_lines = 0              # arrived while paused
        self._group_width = 22
        self._cache_key: tuple[object, ...] | None = None
        self._rows: list[Strip] = []
        self._version = 0
        self._scan_queued = False       # a slice of the filter's search is waiting for a frame

    # -- data -------------------------------------------------------------------------

    def ingest(self, seqs: list[int]) -> None:
        """New records were drained into the ring (and possibly old ones dropped)."""
        if self._reordered != self.store.reordered:
            # A history block went in before newer records: the numbers moved, so the view is
            # made again (once, when a tail's backfill is complete), following or not as it was.
            self._reordered = self.store.reordered
            self.model.rebuild()
            self._remade()
            return
        added = self.model.extend(seqs) if seqs else 0
        gone = self.model.trim()
        if not added and not gone:
            return
        if self.model.request:
            self._version += 1  # a request's lines go where their times put them, on screen too
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
        self.following = True
        self._remade()

    def _remade(self) -> None:
        """The model was made again: show it (at its end when following); what the first
        search slice did not reach is searched in the slices that follow."""
        self._version += 1
        self.new_lines = 0
        self.cursor = None
        self._set_virtual()
        if self.following:
            self._to_end()
        self.refresh()
        self.post_message(self.StateChanged())
        self._scan_later()

    def _scan_later(self) -> None:
        """Search the rest of the buffer for the filter a slice at a time, each after a frame."""
        if not self.model.complete and not self._scan_queued:
            self._scan_queued = self.call_after_refresh(self._scan_more)

    def _scan_more(self) -> None:
        self._scan_queued = False
        self._scan(SCAN_SLICE)
        if self.model.complete:
            self.post_message(self.StateChanged())
        else:
            self._scan_later()

    def _scan(self, seconds: float | None) -> None:
        """Look at more of the buffer; lines found go above, the cursor stays on its line."""
        model = self.model
        cursor = model.seq(self.cursor) if self.cursor is not None else None
        top = model.seq(int(self.scroll_y)) if not self.following and int(self.scroll_y) < len(model) else None
        if not model.scan(seconds):
            return
        if model.request:
            self._version += 1
        self._set_virtual()
        if self.following:
            self._to_end()
        else:
            if cursor is not None:
                self.cursor = model.position(cursor)
            if top is not None:
                self.scroll_to(y=model.position(top) or 0, animate=False, immediate=True)
        self.refresh()

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

    def _look(self) -> Look:
        styles = {name: self.get_component_rich_style(f"logview--{name}", partial=True)
                  for name in _STYLE_NAMES}
        return Look(self.wrap, self.show_time, self.local_time, self.raw_json, styles,
                    self.rich_style, self.app.console)

    def _layout(self) -> list[Strip]:
        width = self.scrollable_content_region.width
        height = self.scrollable_content_region.height
        key = (self._version, self._place(height), width, height, self.wrap, self.show_time,
               self.following, self.model.filter_text, len(self.store.lines))  # groups: column width
        if key != self._cache_key:
            self._cache_key = key
            look = self._look()
            place = Place(width, height, self.following, int(self.scroll_y), self.cursor)
            self._rows = self.event_rows.screen(place, look, look.columns(width, self.store.lines.keys()))
        return self._rows

    def _place(self, height: int) -> tuple[int, ...]:
        """Which lines the screen can show, by sequence number: lines arriving below a paused
        screen, found above a followed one or dropped by the ring leave it as it is."""
        model = self.model
        n = len(model)
        if not n:
            return ()
        if self.following:  # the newest lines; the first of them only matters on a short list
            return (model.seq(n - 1), model.seq(max(0, n - height)))
        top = min(int(self.scroll_y), n - 1)
        cursor = model.seq(self.cursor) if self.cursor is not None and self.cursor < n else -1
        return (model.seq(top), model.seq(min(n, top + height) - 1), cursor)

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
        self._scan(None)
        self._move_cursor(0)

    def action_follow(self) -> None:
        self.resume()

    def action_toggle_follow(self) -> None:
        if self.following:
            self._move_cursor(self._anchor())
        else:
            self.resume()

    def action_symptom(self, step: int) -> None:
        # While following there is nothing below: both keys look back from the newest line.
        start = self.cursor if self.cursor is not None else len(self.model)
        direction = step if self.cursor is not None else -1
        found = self.model.find_symptom(start, direction)
        if found is None and direction < 0 and not self.model.complete:
            self._scan(None)  # the lines above are still being searched: finish first
            start = self.cursor if self.cursor is not None else len(self.model)
            found = self.model.find_symptom(start, direction)
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

    def action_zone(self) -> None:
        self.local_time = not self.local_time
        self._version += 1
        self.refresh()
        self.notify("times in " + ("local time" if self.local_time else "UTC"), timeout=2)
        self.post_message(self.StateChanged())

    def action_raw_json(self) -> None:
        self.raw_json = not self.raw_json
        self._version += 1
        self.refresh()
        self.notify("JSON events " + ("as written" if self.raw_json else "as LEVEL message key=value"),
                    timeout=2)

    def action_request(self) -> None:
        """R: every line of the selected line's request (Lambda, API Gateway, X-Ray), in time order."""
        from warroom.tui.requests import request_id

        if self.cursor is None or self.cursor >= len(self.model):
            self.notify("no line selected: move to one with j/k or n, then R", timeout=2)
            return
        selected = self.model.record(self.cursor)
        found = request_id(selected.message)
        if found is None:
            self.notify("no request id on this line", timeout=2)
            return
        self.model.set_request(found)
        self.lookup = None
        self.refilter()
        self.notify(f"request {lines.plain(found)}: {len(self.model):,} lines in the buffer "
                    "(esc shows every line again)", timeout=4)
        # Where the request's lines are: the line's group and those the first search slice met.
        groups = {self.model.record(i).group for i in range(len(self.model))} | {selected.group}
        self.post_message(self.RequestShown(found, selected.timestamp, frozenset(g for g in groups if g)))

    def lookup_sent(self, token: int, tails: int) -> None:
        """The request shown is being looked up in CloudWatch by `tails` log tails."""
        self.lookup = (token, tails)

    def found(self, event: Found) -> None:
        """A tail's answer to the lookup of the request shown: its lines the buffer lacks go in."""
        if self.lookup is None or event.token != self.lookup[0] or not self.model.request:
            return  # an answer for a request no longer shown
        token, waiting = self.lookup
        self.lookup = (token, waiting - 1) if waiting > 1 else None
        added = self.model.add_fetched(event.records)
        if added:
            self._version += 1
            self._set_virtual()
            if self.following:
                self._to_end()
            self.refresh()
        request = lines.plain(self.model.request)
        if event.error:
            self.notify(f"request {request}: CloudWatch lookup: {lines.plain(event.error)}",
                        severity="warning", timeout=6)
        elif self.lookup is None:
            self.notify(f"request {request}: looked up in CloudWatch as well: {len(self.model):,} "
                        f"lines in all", timeout=4)

    def action_copy(self) -> None:
        """c: the selected line to the clipboard, by OSC 52 (works over SSH, in tmux with set-clipboard)."""
        if self.cursor is None or self.cursor >= len(self.model):
            self.notify("no line selected: move to one with j/k or n, then c", timeout=2)
            return
        text = lines.copy_text(self.model.record(self.cursor), self.local_time)
        self.app.copy_to_clipboard(text)
        self.notify(f"copied the line to the clipboard ({len(text):,} characters, OSC 52)", timeout=2)

    def action_marker(self) -> None:
        now = int(self.store.clock() * 1000)
        self.store.push([Record(MARKER_SOURCE, "", "", now, f"marker-{now}",
                                f"marker {lines.clock_text(now)}")])

    def action_save(self) -> None:
        from warroom.tui.confirm import PathModal

        default = time.strftime("warroom-logs-%Y%m%d-%H%M%S.log", time.gmtime(self.store.clock()))
        self.app.push_screen(PathModal("Save the lines shown (with their filters) to:", default),
                             self._save_to)

    def _save_to(self, answer: str | None) -> None:
        if not answer:
            return
        path = Path.cwd() / Path(answer).expanduser()
        try:
            count = self.save(path)
        except (NotWritten, OSError) as exc:
            self.notify(f"could not save: {exc}", severity="error", timeout=6)
            return
        self.notify(f"saved {count:,} lines to {lines.plain(str(path))}", timeout=4)

    def save(self, path: Path) -> int:
        """Write the lines the view holds (with its filters) to a new file; returns how many."""
        self._scan(None)
        with create_private(path) as out:
            for i in range(len(self.model)):
                out.write(lines.file_line(self.model.record(i)) + "\n")
        return len(self.model)

    # -- title ------------------------------------------------------------------------

    def status_text(self) -> str:
        if self.following:
            return "● follow"
        more = f" · {self.new_lines} new lines (End)" if self.new_lines else " (End resumes)"
        return f"❚❚ paused{more}"
