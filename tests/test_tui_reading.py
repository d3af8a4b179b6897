"""The console as an engineer reads it: findings that hold still, events as they were written."""

from __future__ import annotations

import json
import time
from typing import Any

from warroom.incident.records import Record
from warroom.playbook.matcher import Matcher
from warroom.tui import sample
from warroom.tui.app import ConsoleApp
from warroom.tui.findings import MARKS
from warroom.tui.logrows import Place

from tests.tui_helpers import catalog, sample_app, screen_rows, screen_text, toasts, until

SIZE = (160, 48)
NOW = int(sample.CLOCK * 1000)


def event(message: str, group: str = "/aws/lambda/bos-dev-api-handler", at: int = NOW) -> Record:
    return Record("logs", group, "2024/05/01/[$LATEST]abc", at, f"e{at}{len(message)}", message,
                  matches=Matcher(catalog()).match(message, group))


async def settle(app: ConsoleApp, pilot: Any) -> None:
    app.pump()
    await pilot.pause()


def rows_of(app: ConsoleApp, needle: str, after: int = 6) -> list[str]:
    """The row holding `needle` and the rows after it, without the prefix columns."""
    rows = screen_rows(app)
    at = next(i for i, r in enumerate(rows) if needle in r)
    return rows[at:at + after]


# -- findings ---------------------------------------------------------------------------------


async def test_findings_hold_still_under_the_cursor_and_slot_in_new_ones() -> None:
    app = sample_app(count=400)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        findings = app.main.findings
        store = app.store
        shown = list(findings._shown)
        assert shown == [f.key for f in store.active_findings()] and len(shown) >= 3
        rank = ("critical", "high", "medium", "low")
        order = [(rank.index(store.severity(store.findings[k])), store.findings[k].first) for k in shown]
        assert order == sorted(order)
        findings.focus()
        await pilot.press("j")
        under = findings._shown[findings.highlighted]
        # A brand-new critical finding and more of an existing one arrive while the list has focus.
        store.push([event("Task timed out after 3.01 seconds", "/aws/lambda/zz-new-fn", at=0),
                    event("ConditionalCheckFailedException: The conditional request failed",
                          "/aws/lambda/kiro-worker-test-poller")])
        app.pump()
        await pilot.pause()
        assert findings._shown == shown and findings._shown[findings.highlighted] == under
        assert findings.waiting == 1 and "+1 new (r)" in str(findings.border_title)
        assert any("1 new finding" in t for t in toasts(app))
        await pilot.press("j")
        assert findings._shown[findings.highlighted] == shown[shown.index(under) + 1]
        here = findings._shown[findings.highlighted]
        await pilot.press("r")  # slotted in by severity and first seen, the cursor stays on its row
        assert findings.waiting == 0 and len(findings._shown) == len(shown) + 1
        assert findings._shown == [f.key for f in store.active_findings()]
        new = app.store.findings[("lambda-timeout", "zz-new-fn")]  # seen first of its severity
        assert findings._shown.index(new.key) == min(
            i for i, k in enumerate(findings._shown) if app.store.severity(app.store.findings[k])
            == app.store.severity(new))
        assert findings._shown[findings.highlighted] == here


async def test_leaving_the_findings_slots_in_what_arrived() -> None:
    app = sample_app(count=400)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        findings = app.main.findings
        findings.focus()
        await pilot.pause()
        app.store.push([event("Task timed out after 3.01 seconds", "/aws/lambda/zz-new-fn", at=0)])
        app.pump()
        assert findings.waiting == 1
        await pilot.press("tab")
        assert not findings.has_focus and findings.waiting == 0
        assert ("lambda-timeout", "zz-new-fn") in findings._shown


async def test_enter_on_a_finding_opens_the_wizard_with_the_guidance_beside_it() -> None:
    requested: list[Any] = []
    app = sample_app(fix_hook=lambda a, e: requested.append(e))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        findings = app.main.findings
        findings.focus()
        findings.highlighted = findings._shown.index(("lambda-timeout", "bos-dev-agent-persona"))
        await pilot.press("enter")
        await until(pilot, lambda: requested, "the fix request")
        assert [(e.playbook, e.resource, e.params["function"]) for e in requested] == [
            ("lambda-timeout", "bos-dev-agent-persona", "bos-dev-agent-persona")]
        shown = app.main.guidance.shown
        assert shown is not None and shown.playbook.id == "lambda-timeout"
        assert shown.resource == "bos-dev-agent-persona"


async def test_a_finding_row_has_severity_count_and_first_and_last_seen() -> None:
    app = sample_app(count=400)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        findings = app.main.findings
        f = app.store.findings[("lambda-timeout", "bos-dev-agent-persona")]
        text = str(findings.get_option_at_index(findings._shown.index(f.key)).prompt)
        first, last = (time.strftime("%H:%M", time.gmtime(ms / 1000)) for ms in (f.first, f.last))
        assert text.startswith(MARKS.get(app.store.severity(f), "○") + " lambda-timeout")
        assert f"×{f.count}" in text
        assert first != last and f"{first}→{last}" in text
        assert "bos-dev-agent-persona" in text


# -- events -----------------------------------------------------------------------------------


TRACEBACK = ("[ERROR] Runtime.ImportModuleError: Unable to import module 'app': No module named 'x'\n"
             "Traceback (most recent call last):\n  File \"/var/task/app.py\", line 3, in <module>\n"
             "    import x\x1b[31m\n")


async def test_a_multi_line_event_is_one_event_on_indented_rows() -> None:
    app = sample_app(count=20)
    async with app.run_test(size=SIZE) as pilot:
        app.store.push([event(TRACEBACK)])
        await settle(app, pilot)
        logs = app.main.logs
        assert logs.model.record(len(logs.model) - 1).message == TRACEBACK  # one event
        rows = rows_of(app, "Runtime.ImportModuleError", 5)
        start = rows[0].index("[ERROR]")
        assert rows[1][start:].startswith("  Traceback (most recent call last):")
        assert rows[2][start:].startswith("    File \"/var/task/app.py\", line 3")
        assert rows[3][start:].startswith("      import x\\x1b[31m")  # other controls stay escaped
        assert not rows[1][:start].strip()  # continuation rows leave the prefix columns empty
        assert not any("\\x0a" in r for r in screen_rows(app))
        # The symptom span is styled on the first row.
        y = screen_rows(app).index(rows[0])
        styled = "".join(s.text for s in logs.render_line(y) if s.style and s.style.underline)
        assert "Unable to import module" in styled


async def test_a_cursor_on_a_tall_event_keeps_it_on_screen() -> None:
    app = sample_app(count=20)
    async with app.run_test(size=(100, 24)) as pilot:
        app.store.push([event("first\n" + "\n".join(f"line {i}" for i in range(6))),
                        event("quiet", at=NOW + 1)])
        await settle(app, pilot)
        await pilot.press("k")  # onto the tall event, from the newest line
        rows = screen_rows(app)
        assert any("line 5" in r for r in rows) and "first" in "".join(rows)


async def test_json_events_read_as_level_message_fields_and_J_shows_them_raw() -> None:
    powertools = json.dumps({"level": "ERROR", "location": "handler:12",
                             "message": "Task timed out after 3.00 seconds",
                             "timestamp": "2024-05-01 10:17:29,001", "service": "persona",
                             "password": "hunter2-is-secret"})
    lambda_json = json.dumps({"timestamp": "2024-05-01T10:17:29Z", "level": "WARN",
                              "message": "slow\nsecond line", "requestId": "r-1"})
    app = sample_app(count=20)
    async with app.run_test(size=SIZE) as pilot:
        app.store.push([event(powertools, "/aws/lambda/bos-dev-agent-persona"),
                        event(lambda_json, at=NOW + 1)])
        await settle(app, pilot)
        logs = app.main.logs
        row = rows_of(app, "handler:12", 1)[0]
        assert "ERROR Task timed out after 3.00 seconds location=handler:12 service=persona" in row
        assert "timestamp" not in row and "hunter2" not in row
        y = screen_rows(app).index(row)
        segments = list(logs.render_line(y))
        level = next(s for s in segments if s.text.startswith("ERROR"))
        assert level.style is not None and level.style.bold and level.style.reverse
        symptom = "".join(s.text for s in segments if s.style and s.style.underline)
        assert "timed out after 3.00 seconds" in symptom
        warn = rows_of(app, "WARN slow", 2)
        assert warn[0].rstrip().endswith("WARN slow") and "second line requestId=r-1" in warn[1]
        await pilot.press("J")
        rows = screen_rows(app)
        raw = next(r for r in rows if "handler:12" in r)
        assert '{"level": "ERROR", "location": "handler:12"' in raw and "hunter2" not in raw
        y = rows.index(raw)
        symptom = "".join(s.text for s in logs.render_line(y) if s.style and s.style.underline)
        assert symptom.startswith("Task timed out after 3.00")  # the row ends before the span does


async def test_z_toggles_utc_and_local_time() -> None:
    app = sample_app(count=20)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        record = app.main.logs.model.record(len(app.main.logs.model) - 1)
        utc = time.strftime("%H:%M:%S", time.gmtime(record.timestamp / 1000))
        local = time.strftime("%H:%M:%S", time.localtime(record.timestamp / 1000))
        last = lambda: [r for r in screen_rows(app) if r.strip()][-1]  # noqa: E731
        assert last().startswith(utc)
        await pilot.press("z")
        assert last().startswith(local) and app.main.findings.local_time
        await pilot.press("z")
        assert last().startswith(utc)


async def test_c_copies_the_selected_line_and_says_so() -> None:
    app = sample_app(count=20)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.store.push([event("boom\n  at handler key AKIAIOSFODNN7EXAMPLE \x1b[2J")])
        await settle(app, pilot)
        await pilot.press("c")
        assert app.clipboard == "" and any("no line selected" in t for t in toasts(app))
        await pilot.press("k", "j")
        await pilot.press("c")
        assert app.clipboard.endswith("bos-dev-api-handler boom\n  at handler key AKIA****************"
                                      " \\x1b[2J")
        assert any("copied the line" in t and "OSC 52" in t for t in toasts(app))


async def test_n_while_following_goes_to_the_newest_symptom() -> None:
    app = sample_app(count=400)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        logs = app.main.logs
        assert logs.following
        await pilot.press("n")
        newest = max(i for i in range(len(logs.model)) if logs.model.record(i).matches)
        assert logs.cursor == newest


# -- `:` ---------------------------------------------------------------------------------------


async def test_colon_matches_fuzzily_and_tab_completes() -> None:
    from warroom.tui.command import CommandScreen

    app = sample_app(count=100)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("colon", *"agent")
        screen = await until(pilot, lambda: isinstance(app.screen, CommandScreen) and app.screen, ":")
        assert screen.shown[0].command == "resource bos-dev-agent-persona"
        await pilot.press("enter")                    # not a name: the best candidate runs
        assert app.main.logs.model.groups == frozenset({"/aws/lambda/bos-dev-agent-persona"})
        await pilot.press("colon", *"lmbtimeout", "tab")
        screen = app.screen
        assert isinstance(screen, CommandScreen)
        assert screen.query_one("#command-input").value == "lambda-timeout"
        await pilot.press("enter")
        assert app.main.guidance.shown is not None
        assert app.main.guidance.shown.playbook.id == "lambda-timeout"
        await pilot.press("colon", *"fix ddbthrot", "down", "up", "tab")
        assert app.screen.query_one("#command-input").value == "fix dynamodb-throttling"
        await pilot.press("escape")
        await pilot.press("colon", *"hlp", "enter")   # commands too
        from warroom.tui.help import HelpScreen

        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")


async def test_colon_filter_runs_as_typed() -> None:
    app = sample_app(count=100)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("colon", *"filter timed out", "enter")
        assert app.main.logs.model.filter_text == "timed out"


# -- readable everywhere ---------------------------------------------------------------------


def _title_fills(app: ConsoleApp) -> dict[str, str]:
    """Each pane title's text colour, read back from the SVG export."""
    import html
    import re

    svg = app.export_screenshot()
    fills = dict(re.findall(r"\.(terminal-[\w-]+) \{ fill: (#[0-9a-f]{6})", svg))
    out = {}
    for cls, text in re.findall(r'<text class="([^"]+)"[^>]*>([^<]*)</text>', svg):
        word = html.unescape(text).replace("\xa0", " ").strip().split(" ")[0]
        if word in ("Resources", "Findings", "Guidance", "Logs") and cls in fills:
            out.setdefault(word, fills[cls])
    return out


def _luminance(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


async def test_pane_titles_read_focused_or_not() -> None:
    app = sample_app(count=50)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        background = app.screen.styles.background.hex[:7]
        fills = _title_fills(app)
        assert set(fills) == {"Resources", "Findings", "Guidance", "Logs"}
        for pane, fill in fills.items():
            if pane != "Logs":  # unfocused: light text on the dark background
                assert _luminance(fill) - _luminance(background) > 0.4, (pane, fill)


async def test_80x24_keeps_help_and_quit_and_half_the_width_for_messages() -> None:
    app = sample_app(count=50)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        footer = screen_text(app).splitlines()[-1]
        assert footer.lstrip().startswith("? Help  q Quit")
        logs = app.main.logs
        cols = logs._look().columns(logs.scrollable_content_region.width, logs.store.lines.keys())
        assert logs.scrollable_content_region.width - cols.prefix_width >= 40
        await pilot.press("tab", "tab", "tab")       # the findings: the side column widens
        assert app.main.findings.has_focus
        assert app.screen.query_one("#left").region.width == 30


async def test_no_color_symptoms_are_the_brightest_text(monkeypatch: Any) -> None:
    def symptom_and_message(app: ConsoleApp) -> tuple[Any, Any]:
        logs = app.main.logs
        return (logs.get_component_rich_style("logview--symptom"),
                logs.get_component_rich_style("logview--message"))

    app = sample_app(count=50)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        coloured, _ = symptom_and_message(app)
    monkeypatch.setenv("NO_COLOR", "1")
    app = sample_app(count=50)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.has_class("-no-color")
        symptom, message = symptom_and_message(app)
        assert symptom.bold and symptom.underline
        grey = lambda style: _luminance(style.color.triplet.hex)  # noqa: E731 - NO_COLOR greys by luminance
        assert grey(symptom) >= grey(message) > grey(coloured)


# -- R: one request --------------------------------------------------------------------------


def test_request_ids_lambda_api_gateway_and_x_ray() -> None:
    from warroom.tui.requests import request_id

    rid = "3f9c0b6e-1d2a-4b5c-8d7e-9f0a1b2c3d4e"
    assert request_id(f"REPORT RequestId: {rid}\tDuration: 3.1 ms") == rid
    assert request_id(f"2024-05-01T10:15:32.123Z\t{rid}\tERROR\tboom") == rid
    assert request_id('{"requestId":"Ab12Cd34=","status":"502"}') == "Ab12Cd34="
    assert request_id("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f") == \
        "1-5759e988-bd862e3fe1be46a994272793"
    assert request_id("INFO polling GitHub project board: 4 items") is None
    assert request_id("-" * 100_000 + "0" * 100_000) is None  # a hostile line answers


async def test_R_shows_one_request_across_groups_in_time_order() -> None:
    rid = "3f9c0b6e-1d2a-4b5c-8d7e-9f0a1b2c3d4e"
    app = sample_app(count=100)
    async with app.run_test(size=SIZE) as pilot:
        # The API's access log arrives after the function's lines but was written first.
        app.store.push([event(f"START RequestId: {rid} Version: $LATEST", at=NOW + 10),
                        event("unrelated", at=NOW + 25),
                        event(json.dumps({"requestId": "Zx9=", "integrationRequestId": rid}),
                              "/aws/apigateway/bos-dev-http-api", at=NOW + 5),
                        event(f"2024-05-01T10:17:30Z\t{rid}\tERROR\tboom", at=NOW + 20),
                        event(f"END RequestId: {rid}", at=NOW + 30)])
        await settle(app, pilot)
        await pilot.press("k")                       # onto the ERROR line
        await pilot.press("R")
        model = app.main.logs.model
        assert model.request == rid
        assert [model.record(i).timestamp for i in range(len(model))] == [
            NOW + 5, NOW + 10, NOW + 20, NOW + 30]
        assert f"request {rid}" in str(app.main.logs.border_title)
        await pilot.press("escape", "escape")        # every line again
        assert not model.request and len(model) == len(app.store.ring)


def event_rows(logs: Any) -> list[Any]:
    """The rows of the newest event, laid out 120 cells wide."""
    look = logs._look()
    place = Place(120, 40, following=True, top=0, cursor=None)
    return logs.event_rows.event(len(logs.model) - 1, place, look, look.columns(120, logs.store.lines.keys()))


async def test_an_event_of_many_line_breaks_stays_a_screenful() -> None:
    from warroom.tui.lines import MAX_EVENT_LINES

    app = sample_app(count=20)
    async with app.run_test(size=SIZE) as pilot:
        app.store.push([event("x\n" * 100_000 + "end")])
        await settle(app, pilot)
        logs = app.main.logs
        rows = event_rows(logs)
        assert len(rows) == MAX_EVENT_LINES + 1
        assert "… 99,801 more lines" in "".join(s.text for s in rows[-1])
        await pilot.press("w")                       # wrapping does not make it longer
        rows = event_rows(logs)
        assert len(rows) <= MAX_EVENT_LINES + 1


# -- a filter on a full buffer ----------------------------------------------------------------

async def test_a_filter_shows_the_newest_lines_at_once_and_fills_in_above(monkeypatch: Any) -> None:
    """The first slice of the search fills the screen; the rest arrives above, the cursor stays put."""
    from warroom.tui import logview
    from warroom.tui.logmodel import SCAN_CHUNK, LogModel

    monkeypatch.setattr(logview, "FILTER_SLICE", 0)  # one chunk of lines per slice
    monkeypatch.setattr(logview, "SCAN_SLICE", 0)
    app = sample_app(count=4 * SCAN_CHUNK)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        logs = app.main.logs
        full = LogModel(app.store.ring, lambda: NOW)
        full.set_filter("timed out")
        every = [full.seq(i) for i in range(len(full))]
        assert every[0] < app.store.ring.next - SCAN_CHUNK  # there is something above the first slice

        logs.model.set_filter("timed out")
        logs.refilter()
        assert not logs.model.complete
        assert [logs.model.seq(i) for i in range(len(logs.model))] == every[-len(logs.model):]
        logs.action_cursor(-1)
        chosen = logs.model.seq(logs.cursor)
        app.main.update_logs_title()
        assert "so far (searching)" in str(logs.border_subtitle)
        await until(pilot, lambda: logs.model.complete, "the search to finish")
        assert [logs.model.seq(i) for i in range(len(logs.model))] == every
        assert logs.model.seq(logs.cursor) == chosen and "timed out" in logs.model.record(logs.cursor).message
        await pilot.pause()
        assert "searching" not in str(logs.border_subtitle)

        logs.model.set_filter("Task timed")      # g does not stop at the part searched so far
        logs.refilter()
        assert not logs.model.complete
        logs.focus()
        await pilot.press("g")
        assert logs.model.complete and logs.model.seq(logs.cursor) == every[0]


def test_the_help_lists_every_key_of_every_pane() -> None:
    """A key added to a pane (C for Changes, r in Guidance, ...) is in the `?` help under that pane."""
    from warroom.tui.findings import FindingsList
    from warroom.tui.guidance import GuidancePane
    from warroom.tui.help import KEYS
    from warroom.tui.logview import LogView
    from warroom.tui.main_screen import MainScreen
    from warroom.tui.resources import ResourceTree
    from warroom.tui.wizard import WizardScreen

    names = {"question_mark": "?", "slash": "/", "colon": ":", "escape": "esc", "up": "↑",
             "down": "↓", "pageup": "pgup", "pagedown": "pgdn", "end": "End"}
    panes = {"Everywhere": MainScreen, "Logs": LogView, "Resources": ResourceTree,
             "Findings": FindingsList, "Guidance": GuidancePane, "Fix wizard": WizardScreen}
    for section, keys in KEYS:
        listed = {word for key, _ in keys for word in key.replace(" / ", " ").replace(",", " ").split()}
        for binding in panes[section].BINDINGS:
            aliases = [names.get(k, k) for k in binding.key.split(",")]  # type: ignore[union-attr]
            assert any(a in listed for a in aliases), f"{section}: {binding.key} ({binding.description})"
    everywhere = dict(KEYS)["Everywhere"]
    assert ("C", "changes: what changed before the symptoms") in everywhere
    assert any(k == "r" and "suspect" in what for k, what in dict(KEYS)["Guidance"])
