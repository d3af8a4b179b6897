"""Pilot tests of the console on the fixed sample incident (real store, real widgets)."""

from __future__ import annotations

import re
import stat

from textual.widgets import Input

from warroom.incident.records import Record
from warroom.tui import sample
from warroom.tui.confirm import PathModal
from warroom.tui.findings import FindingsList
from warroom.tui.guidance import GuidancePane
from warroom.tui.logview import LogView
from warroom.tui.resources import ResourceTree

from warroom.playbook.matcher import Matcher

from tests.tui_helpers import catalog, row_text, sample_app, screen_rows, toasts, until

SIZE = (160, 48)


async def test_follow_pause_and_resume_with_new_line_count() -> None:
    app = sample_app(count=300)
    async with app.run_test(size=SIZE) as pilot:
        app.pump()
        await pilot.pause()
        logs = app.main.logs
        assert logs.following and logs.scroll_y == logs.max_scroll_y > 0
        await pilot.press("k")
        assert not logs.following and logs.cursor is not None
        top = logs.scroll_y
        app.store.push(sample.records(Matcher(catalog()), seed=8, count=50))
        app.pump()
        await pilot.pause()
        assert logs.scroll_y == top  # paused: the view does not move
        assert logs.new_lines == 50 and "50 new lines" in logs.border_subtitle
        await pilot.press("end")
        assert logs.following and logs.new_lines == 0
        assert logs.scroll_y == logs.max_scroll_y
        assert "follow" in logs.border_subtitle


async def test_filter_text_and_regex_highlight_and_escape() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        app.pump()
        await pilot.press("slash")
        await pilot.press(*"timed out")
        await pilot.press("enter")
        model = app.main.logs.model
        assert len(model) > 0
        assert all("timed out" in model.record(i).message.lower() for i in range(len(model)))
        assert "/timed out/" in app.main.logs.border_title
        # The match is styled on screen.
        segments = list(app.main.logs.render_line(0))
        hit = [s for s in segments if s.text.lower().startswith("timed out")]
        assert hit and hit[0].style is not None and (hit[0].style.reverse or hit[0].style.bgcolor)
        await pilot.press("slash", "ctrl+u", *r"Rate exc\w+", "enter")
        assert all("Rate exceeded" in model.record(i).message for i in range(len(model)))
        await pilot.press("escape")  # clears the filter
        assert not model.filter_text and len(model) == len(app.store.ring)


async def test_symptom_navigation_and_tab_between_panes() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        app.pump()
        logs = app.main.logs
        await pilot.press("home")
        await pilot.press("n")
        first = logs.cursor
        assert first is not None and logs.model.record(first).matches
        await pilot.press("n")
        second = logs.cursor
        assert second is not None and second > first and logs.model.record(second).matches
        assert all(not logs.model.record(i).matches for i in range(first + 1, second))
        await pilot.press("N")
        assert logs.cursor == first
        # The line's playbook is in the guidance pane.
        shown = app.main.guidance.shown
        assert shown is not None and shown.playbook.id == logs.model.record(first).matches[0].playbook
        focused = []
        for _ in range(4):
            await pilot.press("tab")
            focused.append(type(app.focused).__name__)
        assert {"GuidancePane", "ResourceTree", "FindingsList"} <= set(focused)


async def test_selecting_a_finding_shows_its_playbook() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        app.pump()
        await pilot.pause()
        findings = app.screen.query_one(FindingsList)
        findings.focus()
        key = ("lambda-timeout", "bos-dev-agent-persona")
        index = findings._shown.index(key)
        findings.highlighted = index
        await pilot.press("enter")
        guidance = app.screen.query_one(GuidancePane)
        assert guidance.shown is not None and guidance.shown.playbook.id == "lambda-timeout"
        assert guidance.shown.params["function"] == "bos-dev-agent-persona"
        text = str(guidance.body.render())
        assert "Lambda function timed out" in text and "Raise the timeout" in text
        assert "bos-dev-agent-persona" in text
        requested = []
        app.fix_hook = lambda a, event: requested.append((event.playbook, event.params))
        guidance.focus()
        await pilot.press("enter")
        assert [pid for pid, _ in requested] == ["lambda-timeout"]
        assert requested[0][1]["function"] == "bos-dev-agent-persona"


async def test_selecting_a_resource_filters_the_logs() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        app.pump()
        await pilot.pause()
        tree = app.screen.query_one(ResourceTree)
        assert tree.select_resource("kiro-worker-test-poller")
        await pilot.pause()
        model = app.main.logs.model
        assert model.groups == frozenset({"/aws/lambda/kiro-worker-test-poller"})
        assert len(model) and all(model.record(i).group == "/aws/lambda/kiro-worker-test-poller"
                                  for i in range(len(model)))
        await pilot.press("colon", *"r bos-dev-http-api", "enter")
        assert model.groups == frozenset({"/aws/apigateway/bos-dev-http-api"})
        await pilot.press("colon", *"pb lambda-timeout", "enter")
        assert app.main.guidance.shown and app.main.guidance.shown.playbook.id == "lambda-timeout"


async def test_untrusted_text_is_inert() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        app.pump()
        await pilot.pause()
        logs = app.screen.query_one(LogView)
        logs.model.set_filter("not bold")
        logs.refilter()
        await pilot.pause()
        assert len(logs.model) == 1
        logs.model.set_filter("")
        seq = next(s for s in app.store.ring.seqs() if "not bold" in app.store.ring[s].message)
        logs.refilter()
        await pilot.press("home")
        logs.scroll_to(y=logs.model.position(seq) - 3, animate=False, immediate=True)
        await pilot.pause()
        logs.wrap = True  # see the whole line
        logs._version += 1
        rows = screen_rows(app)
        shown = re.sub(r"\s+", " ", "".join(rows))
        assert "\\x1b[2J\\x1b[31mred alert\\x1b[0m" in shown
        assert "[bold]not bold[/bold] [link=http://evil.example]not a link[/link]" in shown
        assert "\\x1b]8;;http://evil.example\\x07" in shown
        assert "AKIAIOSFODNN7EXAMPLE" not in "".join(rows) and "AKIA****" in "".join(rows)
        for y in range(len(rows)):
            for seg in logs.render_line(y):
                assert "\x1b" not in seg.text and "\x07" not in seg.text
                assert seg.style is None or seg.style.link is None
        # The neighbours render as usual, each on its own row of the right width.
        width = logs.scrollable_content_region.width
        assert all(len(r) == width for r in rows)


async def test_80x24_layout_collapses_panes() -> None:
    app = sample_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.pump()
        await pilot.pause()
        screen = app.main
        assert screen.has_class("-narrow") and screen.has_class("-short")
        assert not app.screen.query_one("#errors").display
        for pane in ("#resources", "#findings", "#logs", "#guidance", "#status"):
            region = app.screen.query_one(pane).region
            assert region.width > 0 and region.height > 0, pane
            assert region.right <= 80 and region.bottom <= 24, pane
        assert app.main.logs.region.width >= 50
        assert row_text(app, 0).strip()


async def test_marker_wrap_timestamps_and_save(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    app = sample_app(count=50)
    async with app.run_test(size=SIZE) as pilot:
        app.pump()
        await pilot.press("m")
        app.pump()
        await pilot.pause()
        last = app.store.ring[app.store.ring.next - 1]
        assert last.source == "marker"
        assert any("marker 10:17:30" in r for r in screen_rows(app))
        assert row_text(app, 0)[:8].count(":") == 2
        await pilot.press("t")
        assert row_text(app, 0)[:8].count(":") < 2
        await pilot.press("s")
        ask = await until(pilot, lambda: isinstance(app.screen, PathModal) and app.screen, "the path")
        assert ask.query_one(Input).value.startswith("warroom-logs-")  # in the current directory
        await pilot.press("enter")
        saved = list(tmp_path.glob("warroom-logs-*.log"))
        assert len(saved) == 1
        lines = saved[0].read_text().splitlines()
        assert len(lines) == 51 and "\x1b" not in saved[0].read_text()
        assert stat.S_IMODE(saved[0].stat().st_mode) == 0o600


async def test_save_never_replaces_a_file_nor_follows_a_symlink(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken.log").write_text("mine")
    (tmp_path / "elsewhere").write_text("theirs")
    (tmp_path / "link.log").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "dangling.log").symlink_to(tmp_path / "created-through-the-link")
    app = sample_app(count=50)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.pump()

        async def save_as(name: str, said: str) -> None:
            app.clear_notifications()
            await pilot.press("s")
            await until(pilot, lambda: isinstance(app.screen, PathModal), "the path")
            await pilot.press("ctrl+u", *name, "enter")
            await until(pilot, lambda: toasts(app) == [said], said)

        await save_as("taken.log", f"could not save: {tmp_path}/taken.log already exists; nothing written")
        await save_as("link.log", f"could not save: {tmp_path}/link.log is a symbolic link; nothing written")
        await save_as("dangling.log",
                      f"could not save: {tmp_path}/dangling.log is a symbolic link; nothing written")
        await save_as("fresh.log", f"saved 50 lines to {tmp_path}/fresh.log")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, PathModal), "the path")
        await pilot.press("escape")  # cancelled: nothing written
    assert (tmp_path / "taken.log").read_text() == "mine"
    assert (tmp_path / "elsewhere").read_text() == "theirs"
    assert not (tmp_path / "created-through-the-link").exists()
    assert len((tmp_path / "fresh.log").read_text().splitlines()) == 50
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dangling.log", "elsewhere", "fresh.log", "link.log", "taken.log"]


async def test_q_quits_at_once_when_no_fix_runs() -> None:
    app = sample_app(count=10)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await until(pilot, lambda: app.return_code == 0, "the console to quit")


async def test_time_window_hides_old_lines() -> None:
    app = sample_app(count=400)  # 400 lines over 120 s, clock at +150 s
    async with app.run_test(size=SIZE) as pilot:
        app.pump()
        await pilot.press("T")  # 1m: only lines from the last 60 s (none older)
        model = app.main.logs.model
        cutoff = int(sample.CLOCK * 1000) - 60_000
        assert 0 < len(model) < 400
        assert all(model.record(i).timestamp >= cutoff for i in range(len(model)))
        app.store.push([Record("logs", "/aws/lambda/x", "s", int(sample.CLOCK * 1000), "new", "fresh")])
        app.pump()
        assert model.record(len(model) - 1).message == "fresh"
