"""What keeps the console small keeps its behaviour: compact records, released patterns,
one botocore loader for every session."""

from __future__ import annotations

import asyncio

import pytest

from warroom.incident.records import NO_MATCHES, Record
from warroom.playbook.catalog import load_catalog
from warroom.playbook.linear import Regex
from warroom.playbook.matcher import Match, Matcher

CLOUDWATCH_ID = "37563823572850403426523584939472829873428749837492384123"  # 56 digits


def _record(event_id: str = "e1", group: str = "/aws/lambda/f", stream: str = "s",
            matches: list[Match] | None = None) -> Record:
    return Record("logs", group, stream, 1_700_000_000_000, event_id, "Task timed out", 1_700_000_000_180,
                  matches if matches is not None else [])


def _fresh(text: str) -> str:
    """An equal string that is not the same object (as each decoded event's names are)."""
    return text.encode().decode()


def test_names_are_shared_but_distinct_names_stay_distinct() -> None:
    group, stream = _fresh("/aws/lambda/f"), _fresh("2024/05/01/x")
    assert group is not _fresh(group)
    a = _record(group=group, stream=stream)
    b = _record(group=_fresh(group), stream=_fresh(stream))
    c = _record(group=_fresh("/aws/lambda/g"), stream=_fresh("2024/05/01/y"))
    assert a.group is b.group and a.stream is b.stream
    assert c.group == "/aws/lambda/g" and c.stream == "2024/05/01/y"
    assert a.group != c.group and a.stream != c.stream


@pytest.mark.parametrize("event_id", [
    CLOUDWATCH_ID, "7", "0", "0123", "-12", "+12", "1_000", "12 ", "²³", "", "build-1/17/0",
    "9" * 300, "e1"])
def test_event_ids_read_back_exactly_as_written(event_id: str) -> None:
    record = _record(event_id)
    assert record.event_id == event_id and type(record.event_id) is str
    assert record.to_json()["eventId"] == event_id
    assert f"event_id={event_id!r}" in repr(record)


def test_a_cloudwatch_event_id_is_held_as_a_number() -> None:
    # 56 digits as a str take 105 bytes; as an int 52.
    assert isinstance(_record(CLOUDWATCH_ID)._event_id, int)
    assert _record(CLOUDWATCH_ID) == _record(CLOUDWATCH_ID)
    assert _record(CLOUDWATCH_ID) != _record(CLOUDWATCH_ID[:-1] + "5")
    assert _record("12") != _record("012")


def test_lines_without_a_symptom_share_one_empty_matches() -> None:
    match = Match("lambda-timeout", "Lambda function timed out", 0, 14, {"timeout": "3"})
    plain, other, found = _record(), _record(matches=None), _record(matches=[match])
    assert plain.matches is NO_MATCHES and other.matches is NO_MATCHES and not plain.matches
    assert list(found.matches) == [match] and found.matches[0].captures == {"timeout": "3"}
    assert plain == other and plain != found
    assert found.to_json()["matches"] == [match.to_json()]
    found.matches = []  # sources set matches after building a record; that still works
    assert found == plain


def test_records_compare_as_the_dataclass_did() -> None:
    assert _record() == _record() and _record() != _record("e2")
    assert _record() != ("logs",) and (_record() == object()) is False
    with pytest.raises(TypeError):
        hash(_record())


def _compiled(regex: Regex) -> bool:
    """Whether either of its RE2 programs (bare, or behind the lazy prefix) is compiled."""
    for program in ("_match", "_head"):
        try:
            object.__getattribute__(regex, program)
        except AttributeError:
            continue
        return True
    return False


def test_loaded_patterns_hold_no_compiled_program_until_used() -> None:
    catalog = load_catalog()
    symptoms = [s for p in catalog for s in p.text_symptoms]
    assert symptoms and not any(_compiled(s.regex) for s in symptoms)
    # The matcher still finds what the examples say, compiling what a line reaches.
    matcher = Matcher(catalog)
    timeout = next(p for p in catalog if p.id == "lambda-timeout")
    example = next(e for s in timeout.text_symptoms for e in s.examples)
    assert "lambda-timeout" in [m.playbook for m in matcher.match(example, "/aws/lambda/f")]
    assert any(_compiled(s.regex) for s in symptoms)


def test_a_released_pattern_compiles_again_and_matches_the_same() -> None:
    regex = Regex(r"took (?P<ms>\d+) ms", ignore_case=True)
    before = regex.search("it TOOK 12 MS").groupdict()
    regex.release()
    regex.release()  # twice is harmless
    assert not _compiled(regex)
    assert regex.search("it TOOK 12 MS").groupdict() == before == {"ms": "12"}
    assert regex.groupindex == {"ms": 1} and [f.span() for f in regex.finditer("took 1 ms took 2 ms")] == \
        [(0, 9), (10, 19)]


def test_every_session_reads_service_models_through_one_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    from warroom.aws.service_model import operation_model, shared_loader
    from warroom.aws.session import AwsOptions, AwsSession
    from warroom.demo.server import OFFLINE_ENV

    for name, value in OFFLINE_ENV.items():
        monkeypatch.setenv(name, value)

    async def clients() -> tuple[object, object, str, str]:
        # No call is made: building a client reads its model, nothing more.
        first, second = AwsSession(AwsOptions(region="us-east-1")), AwsSession(AwsOptions(region="eu-west-1"))
        try:
            a, b = await first.client("lambda"), await second.client("lambda")
            return a._loader, b._loader, a.meta.region_name, b.meta.region_name
        finally:
            await first.aclose()
            await second.aclose()

    loader_a, loader_b, region_a, region_b = asyncio.run(clients())
    assert loader_a is loader_b is shared_loader()
    assert (region_a, region_b) == ("us-east-1", "eu-west-1")
    assert operation_model("lambda", "get_function_configuration").name == "GetFunctionConfiguration"


def test_the_filtered_view_is_compact_and_follows_late_lines_and_the_ring() -> None:
    from warroom.incident.ring import Ring
    from warroom.tui.logmodel import LogModel

    ring = Ring(8)
    model = LogModel(ring, lambda: 1_700_000_000_000)

    def line(ts: int, message: str) -> int:
        return ring.append(Record("logs", "/aws/lambda/f", "s", ts, f"e{ts}", message))

    model.set_request("abc")
    model.extend([line(10, "RequestId: abc one"), line(11, "other"), line(30, "RequestId: abc three")])
    model.extend([line(20, "RequestId: abc two")])  # late: its time puts it between the others
    assert [model.record(i).timestamp for i in range(len(model))] == [10, 20, 30]
    assert model._index is not None and model._index.itemsize == 8  # machine integers, not int objects
    model.extend([line(40 + i, "other") for i in range(6)])  # the ring drops the oldest two lines
    assert model.trim() == 1 and [model.record(i).timestamp for i in range(len(model))] == [20, 30]
    assert model.position(0) is None and model.position(3) == 0 and model.position(2) == 1

    model.set_filter("RequestId")
    while not model.complete:
        model.scan()
    assert [model.record(i).message for i in range(len(model))] == ["RequestId: abc three", "RequestId: abc two"]
    model.set_filter("RequestId: abc t")  # narrows: only the lines shown are looked at
    assert len(model) == 2 and model.complete


def test_the_shared_loader_reads_the_models_botocore_reads_in_the_same_order() -> None:
    from collections import OrderedDict

    from botocore.loaders import create_loader

    from warroom.aws.service_model import shared_loader

    ours, theirs = shared_loader().load_service_model("lambda", "service-2"), \
        create_loader().load_service_model("lambda", "service-2")
    assert type(ours) is dict and type(ours["operations"]) is dict
    assert isinstance(theirs, OrderedDict)
    assert ours == theirs and list(ours["operations"]) == list(theirs["operations"])
    assert list(ours["shapes"]["FunctionConfiguration"]["members"]) == \
        list(theirs["shapes"]["FunctionConfiguration"]["members"])
