"""The incident store and the log view model, without Textual."""

from __future__ import annotations

import pytest

from tests.tui_helpers import catalog
from warroom.incident.records import Finding, Record, Resource
from warroom.incident.ring import Ring
from warroom.incident.store import IncidentStore
from warroom.playbook.matcher import Matcher
from warroom.tui import sample
from warroom.tui.logmodel import SCAN_CHUNK, Literal, LogModel, compile_filter


def rec(i: int, message: str = "hello", group: str = "/aws/lambda/f") -> Record:
    return Record("logs", group, "s", sample.BASE_MS + i, str(i), message)


def test_ring_drops_oldest_first_and_counts() -> None:
    ring = Ring(3)
    for i in range(5):
        ring.append(rec(i))
    assert len(ring) == 3 and ring.dropped == 2
    assert [r.event_id for r in ring] == ["2", "3", "4"]
    assert ring.get(1) is None and ring[4].event_id == "4"


def test_drain_moves_batches_and_aggregates_findings() -> None:
    store = sample.store(catalog(), count=300, capacity=100)
    assert store.ring.next == 0 and len(store.pending) == 300
    assert len(store.drain(120)) == 120 and len(store.pending) == 180
    store.drain()
    assert store.received == 300 and store.dropped == 200 and len(store.ring) == 100
    timeouts = store.findings[("lambda-timeout", "bos-dev-agent-persona")]
    assert timeouts.count == store.symptoms["/aws/lambda/bos-dev-agent-persona"] > 0
    assert timeouts.captures["function"] == "bos-dev-agent-persona"
    ordered = store.active_findings()
    rank = ("critical", "high", "medium", "low")
    keys = [(rank.index(store.severity(f)), f.first) for f in ordered]
    assert keys == sorted(keys) and len({k[0] for k in keys}) > 1  # severity, then first seen


def test_an_api_and_its_access_log_group_are_one_finding() -> None:
    """Probe findings name the API; log findings come from its group: one row, counted once each."""
    matcher = Matcher(catalog())
    store = IncidentStore(catalog())
    store.set_resources([*sample.RESOURCES,
                         Resource("log_group", "/aws/apigateway/bos-dev-http-api", service="logs",
                                  log_group="/aws/apigateway/bos-dev-http-api")])
    msg = '{"status":"502","integrationErrorMessage":"The Lambda function returned an invalid response"}'
    matches = matcher.match(msg, "/aws/apigateway/bos-dev-http-api")
    assert matches, "the sample line should be a symptom"
    pid = matches[0].playbook
    store.push([Record("logs", "/aws/apigateway/bos-dev-http-api", "dev", sample.BASE_MS + i, str(i),
                       msg, matches=matches) for i in (5, 1)])
    store.drain()
    store.set_check_findings([Finding(pid, "/aws/apigateway/bos-dev-http-api", "log_group", "5xx",
                                      sample.BASE_MS + 9, "metric")])
    rows = [f for f in store.active_findings() if f.playbook == pid]
    assert [(f.resource, f.count, f.first, f.last) for f in rows] == [
        ("bos-dev-http-api", 2, sample.BASE_MS + 1, sample.BASE_MS + 9)]


def test_log_findings_from_before_the_resources_were_read_go_to_their_owner() -> None:
    """The tail is quicker than the first check: an access-log symptom seen before the API and
    its routes are known is the function's finding once they are, not a second row."""
    matcher = Matcher(catalog())
    store = IncidentStore(catalog())
    group = "/aws/apigateway/bos-dev-http-api"
    msg = ('{"routeKey":"GET /agents","status":"502","integrationErrorMessage":"The Lambda function '
           'returned the following error: Runtime exited with error: signal: killed"}')
    matches = matcher.match(msg, group)
    assert matches and matches[0].playbook == "lambda-out-of-memory"
    store.push([Record("logs", group, "dev", sample.BASE_MS + i, str(i), msg, matches=matches) for i in (1, 2)])
    store.drain()
    assert [(f.resource, f.count) for f in store.active_findings()] == [("bos-dev-http-api", 2)]
    api = Resource("api", "bos-dev-http-api", service="apigateway", log_group=group,
                   attributes={"Routes": {"GET /agents": "bos-dev-api-handler"}})
    handler = Resource("function", "bos-dev-api-handler", service="lambda",
                       log_group="/aws/lambda/bos-dev-api-handler")
    store.set_resources([api, handler])
    store.push([Record("logs", group, "dev", sample.BASE_MS + 3, "3", msg, matches=matches)])
    store.drain()
    rows = [(f.resource, f.count, f.first, f.last) for f in store.active_findings()]
    assert rows == [("bos-dev-api-handler", 3, sample.BASE_MS + 1, sample.BASE_MS + 3)]
    assert store.active_findings()[0].captures["function"] == "bos-dev-api-handler"


def test_a_history_block_goes_before_the_newer_lines_that_came_meanwhile() -> None:
    """The console shows live lines at once; the `--since` backfill, complete later, is put
    where its times belong: the whole buffer reads in time order, each record counted once."""
    from warroom.incident import source_events as ev

    matcher = Matcher(catalog())
    store = IncidentStore(catalog(), capacity=100)
    timeout = "2024-05-01T10:15:32Z 1 Task timed out after 30.03 seconds"
    live = [rec(100, "live a"), rec(300, "live b")]
    store.apply(ev.Records("log tail", live))
    store.drain()
    model = LogModel(store.ring, lambda: sample.BASE_MS + 1_000)
    history = [rec(50, "old a"), rec(150, timeout), rec(200, "old b")]
    history[1].matches = matcher.match(timeout, history[1].group)
    store.apply(ev.Records("log tail", history, history=True))
    assert store.reordered == 1
    model.rebuild()
    assert [model.record(i).message for i in range(len(model))] == ["old a", "live a", timeout, "old b", "live b"]
    assert store.received == 5 and store.lines["/aws/lambda/f"] == 5
    assert [(f.playbook, f.count) for f in store.active_findings()] == [("lambda-timeout", 1)]


def test_check_findings_replace_the_previous_check() -> None:
    store = IncidentStore(catalog())
    first = Finding("secret-value-empty", "tok", "secret", "empty", 1, "probe")
    store.set_check_findings([first])
    assert ("secret-value-empty", "tok") in store.findings
    store.set_check_findings([])
    assert not store.findings


def test_errors_per_minute_series() -> None:
    matcher = Matcher(catalog())
    store = IncidentStore(catalog(), clock=lambda: sample.BASE_MS / 1000 + 120)
    msg = "Task timed out after 3.00 seconds"
    store.push(Record("logs", "/aws/lambda/f", "s", sample.BASE_MS + m * 60_000, str(m), msg,
                      matches=matcher.match(msg, "/aws/lambda/f")) for m in (0, 0, 2))
    store.drain()
    assert store.errors_per_minute("/aws/lambda/f", 3) == [2, 0, 1]
    assert store.errors_per_minute(None, 3) == [2, 0, 1]


def test_filter_is_regex_or_literal_with_smart_case() -> None:
    assert compile_filter("time.*out").search("Task timed out")
    assert compile_filter("[bold").search("x [bold y")  # not a valid regex: literal
    assert compile_filter("task").search("Task") and not compile_filter("Task").search("task")
    assert isinstance(compile_filter("task"), Literal) and compile_filter("task").found_in("A TASK")
    assert compile_filter("Time.*out").search("Time ran out") and not compile_filter("Time.*out").search("time out")
    assert compile_filter("(?<=x)y").search("a (?<=x)y b")  # RE2 has no lookbehind: literal


def test_a_regex_filter_on_a_hostile_line_answers(capfd: pytest.CaptureFixture[str]) -> None:
    """`(a+)+$` backtracks exponentially in `re`; on RE2 it answers (this test would hang)."""
    line = "a" * (256 * 1024) + "!"
    assert compile_filter("(a+)+$").search(line) is None
    assert [m.span() for m in compile_filter("(a+)+!").finditer("xa" + line[-5:])] == [(1, 7)]
    compile_filter("[")
    assert capfd.readouterr().err == ""  # a bad pattern is not logged onto the screen


def test_model_filters_and_trims_with_the_ring() -> None:
    ring = Ring(10)
    model = LogModel(ring, lambda: sample.BASE_MS + 100)
    model.set_filter("odd")
    seqs = [ring.append(rec(i, "odd" if i % 2 else "even")) for i in range(6)]
    assert model.extend(seqs) == 3
    assert [model.record(i).event_id for i in range(len(model))] == ["1", "3", "5"]
    more = [ring.append(rec(i, "odd" if i % 2 else "even")) for i in range(6, 16)]
    model.extend(more)
    gone = model.trim()
    assert gone == 3 and all(model.record(i).message == "odd" for i in range(len(model)))
    assert len(model) == 5


def test_typing_on_narrows_and_finds_what_a_full_search_finds() -> None:
    """Each keystroke looks only at the lines shown; the result is the full search's."""
    ring = Ring(200)
    words = ("Task timed out", "task TIMED", "time.out", "timeout", "other", "Time")
    groups = ("/aws/lambda/timer", "/aws/lambda/f")
    for i in range(150):
        ring.append(rec(i, words[i % len(words)], group=groups[i % 2]))
    narrowed = LogModel(ring, lambda: sample.BASE_MS)
    full = LogModel(ring, lambda: sample.BASE_MS)

    def shown(model: LogModel) -> list[int]:
        return [model.seq(i) for i in range(len(model))]

    for text in ("t", "ti", "tim", "time", "time.", "time.o", "timeO", "Time", "Tim", "x"):
        narrowed.set_filter(text)
        full.filter_text = ""  # no narrowing: the whole buffer
        full.set_filter(text)
        assert shown(narrowed) == shown(full), text
    narrowed.set_filter("tim")
    narrowed.set_groups(["/aws/lambda/f"])
    narrowed.set_filter("time")
    narrowed.groups = None               # widened without a rebuild, as a resource change does
    narrowed.set_filter("timed")
    full.groups = None
    full.filter_text = ""
    full.set_filter("timed")
    assert shown(narrowed) == shown(full)


def test_a_filter_searches_newest_first_in_slices_and_ends_as_a_full_search() -> None:
    """With a slice budget the newest lines are searched first; the rest fill in above."""
    ring = Ring(3 * SCAN_CHUNK + 100)
    for i in range(4 * SCAN_CHUNK):  # the ring has dropped its oldest
        ring.append(rec(i, "Task timed out" if i % 3 == 0 else "REPORT Duration"))
    full = LogModel(ring, lambda: sample.BASE_MS)
    full.set_filter("timed")
    assert full.complete
    expected = [full.seq(i) for i in range(len(full))]

    sliced = LogModel(ring, lambda: sample.BASE_MS, slice_s=0)  # one chunk a call
    sliced.set_filter("timed")
    assert not sliced.complete
    newest = [sliced.seq(i) for i in range(len(sliced))]
    assert newest == expected[-len(newest):]                 # the screen's end is right at once
    late = [ring.append(rec(i, "timed out late")) for i in range(4 * SCAN_CHUNK, 4 * SCAN_CHUNK + 3)]
    assert sliced.extend(late) == 3
    sliced.set_filter("timed o")                              # narrowing keeps what is not looked at yet
    extra = ring.append(rec(0, "timed out too"))
    sliced.extend([extra])
    sliced.trim()
    found = 0
    while not sliced.complete:
        found += sliced.scan(0)
    shown = [sliced.seq(i) for i in range(len(sliced))]
    fresh = LogModel(ring, lambda: sample.BASE_MS)
    fresh.set_filter("timed o")
    assert found and shown == [s for s in [*expected, *late, extra] if s >= ring.first]
    assert shown == [fresh.seq(i) for i in range(len(fresh))]


def test_a_request_found_in_slices_stays_in_time_order() -> None:
    ring = Ring(3 * SCAN_CHUNK)
    for i in range(3 * SCAN_CHUNK):
        # Written late: the newest sequence numbers carry the oldest times.
        ring.append(rec(3 * SCAN_CHUNK - i, "RequestId: abc" if i % 500 == 0 else "other"))
    model = LogModel(ring, lambda: sample.BASE_MS, slice_s=0)
    model.set_request("abc")
    while not model.complete:
        model.scan(0)
    times = [model.record(i).timestamp for i in range(len(model))]
    assert len(times) == 13 and times == sorted(times)
