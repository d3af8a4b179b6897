"""The incident store and the log view model, without Textual."""

from __future__ import annotations

from warroom.incident.records import Finding, Record
from warroom.incident.store import IncidentStore, Ring
from warroom.playbook.matcher import Matcher
from warroom.tui import sample
from warroom.tui.logmodel import LogModel, compile_filter

from tests.tui_helpers import catalog


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
    newest = store.active_findings()
    assert [f.last for f in newest] == sorted((f.last for f in newest), reverse=True)


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
