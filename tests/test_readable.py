"""The matcher reads the text a line carries (JSON escapes read, colour codes, typographic
quotes and odd spaces undone), line by line, and puts what it finds back on the raw line's
characters."""

from __future__ import annotations

import json
import random

import pytest

from tests.corpus import ordinary_lines, symptom_samples
from tests.playbook_yaml import playbook_yaml
from warroom.playbook.catalog import load_catalog
from warroom.playbook.matcher import Matcher
from warroom.playbook.readable import MAX_EDGES, Envelope, readable


@pytest.fixture(scope="module", params=["python", "hyperscan"])
def matcher(request) -> Matcher:
    if request.param == "hyperscan":
        pytest.importorskip("hyperscan")
    return Matcher(load_catalog(), engine=request.param)


@pytest.mark.parametrize("ascii_only", [True, False])
def test_escapes_are_read_and_each_character_knows_its_place(ascii_only: bool) -> None:
    rng = random.Random(int(ascii_only))
    alphabet = 'ab "\\/\n\r\téü€😀\x01'
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 40)))
        raw = json.dumps(text, ensure_ascii=ascii_only)[1:-1]
        view = readable(raw)
        if view is None:  # nothing escaped: the raw text is the text
            assert raw == text
            continue
        assert view.text.encode("utf-16", "surrogatepass").decode("utf-16") == text
        for i, char in enumerate(view.text):
            start, end = view.raw_span(i, i + 1)
            assert json.loads(f'"{raw[start:end]}"') == char or len(char.encode("utf-16-le", "surrogatepass")) == 2
        assert view.raw_span(0, len(view.text)) == (0, len(raw))


def test_a_backslash_that_escapes_nothing_is_text() -> None:
    assert readable(r"C:\Users\build\app.py") is None
    assert readable("no backslash") is None


def test_a_symptom_inside_a_json_message_is_found_on_its_raw_text(matcher: Matcher) -> None:
    wrapped = json.dumps({"level": "ERROR", "message": 'upstream said {"message":"Internal server error"}'})
    found = matcher.match(wrapped)
    assert found and found[0].playbook == "apigw-internal-error"
    assert "Internal server error" in wrapped[found[0].start:found[0].end]


def test_a_traceback_logged_as_one_json_event_is_read_line_by_line(matcher: Matcher) -> None:
    trace = ('Traceback (most recent call last):\n  File "/var/task/app.py", line 3, in <module>\n'
             "    import requests\nModuleNotFoundError: No module named 'requests'")
    line = json.dumps({"timestamp": "2024-05-01T10:00:00Z", "level": "ERROR", "message": "init failed",
                       "exception": trace, "requestId": "6f1c2b7e"})
    for found in (matcher.match(line), matcher.match_many([line])[0],
                  [m for _, _, ms in matcher.scan(line.encode()) for m in ms]):
        assert found and found[0].playbook == "python-module-not-found"
        assert found[0].captures.get("module") == "requests"
        assert "No module named" in line[found[0].start:found[0].end]


def test_corpus_symptoms_inside_json_messages_are_still_found(matcher: Matcher) -> None:
    samples = symptom_samples()
    right = wrapped_right = 0
    for sample in samples:
        plain = matcher.match(sample.line)
        if not plain or plain[0].playbook != sample.playbook:
            continue
        right += 1
        wrapped = json.dumps({"level": "ERROR", "message": sample.line, "requestId": "6f1c2b7e"})
        found = matcher.match(wrapped)
        wrapped_right += bool(found) and found[0].playbook == sample.playbook
    assert right > 1000
    assert wrapped_right >= 0.97 * right  # read raw only, 91 %


def test_many_escaped_line_breaks_are_one_block(matcher: Matcher) -> None:
    # A hostile line of 100,000 escaped line breaks is read as one block of empty lines.
    line = "\\n" * 100_000 + "Task timed out after 3.00 seconds"
    found = matcher.match(line)
    assert [m.playbook for m in found][:1] == ["lambda-timeout"]
    assert line[found[0].start:found[0].end] == "Task timed out after 3.00 seconds"


def test_explain_gives_the_decision_for_a_line_read_through_its_escapes(matcher: Matcher) -> None:
    line = json.dumps({"level": "ERROR", "message": "boom\nTask timed out after 3.00 seconds"})
    chosen = matcher.match(line)[0]
    why = matcher.explain(line)
    assert why and why[0][0] == chosen
    assert line[chosen.start:chosen.end] == "Task timed out after 3.00 seconds"


def test_colour_codes_typographic_quotes_and_odd_spaces_are_undone() -> None:
    line = "\x1b[31m\x1b[1mError:\x1b[0m bucket “acme-logs” already exists,\u00a0it’s taken"
    view = readable(line)
    assert view is not None
    assert view.text == "Error: bucket \"acme-logs\" already exists, it's taken"
    start = view.text.index('"acme-logs"')
    first, last = view.raw_span(start, start + len('"acme-logs"'))
    assert line[first:last] == "“acme-logs”"
    # The same colour code written as a JSON escape, as a JSON logger stores it.
    assert readable('{"msg":"\\u001b[31mError:\\u001b[0m x"}').text == "\nmsg\nError: x\n"  # type: ignore[union-attr]


def test_a_block_finds_the_lines_that_carry_a_layer_among_lookalike_bytes(matcher: Matcher) -> None:
    # Box drawing (E2 94 ..) and "é" (C3 A9) share or resemble the marks' lead bytes without
    # being marks; the lines with a typographic quote or a no-break space are read as plain.
    lines = ["│ Error: box row ─ nothing here", "café ordinaire",
             "│ KeyError: ‘LOCKS_TABLE_NAME’",
             "ModuleNotFoundError: No module named\u00a0‘requests’",
             "plain START RequestId: 1 Version: $LATEST",
             "│ Task timed out after\u00a03.00 seconds"]
    data = "\n".join(lines).encode()
    found = {data[:start].count(b"\n"): [m.playbook for m in ms] for start, _, ms in matcher.scan(data)}
    single = {n: [m.playbook for m in matcher.match(line)] for n, line in enumerate(lines)}
    assert found == {n: ms for n, ms in single.items() if ms}
    assert set(found) == {2, 3, 5}


def curly(line: str) -> str:
    """A line as a web page or a word processor shows it."""
    out, double = [], True
    for char in line:
        if char == '"':
            out.append("“" if double else "”")
            double = not double
        else:
            out.append("’" if char == "'" else char)
    return "".join(out)


@pytest.mark.parametrize("dress", [curly, lambda line: f"\x1b[31m{line}\x1b[0m",
                                   lambda line: line.replace(" ", "\u00a0", 2)])
def test_corpus_symptoms_dressed_by_a_page_or_a_terminal_are_still_found(matcher: Matcher, dress) -> None:
    right = dressed_right = 0
    for sample in symptom_samples():
        if dress(sample.line) == sample.line:
            continue
        plain = matcher.match(sample.line)
        if not plain or plain[0].playbook != sample.playbook:
            continue
        right += 1
        found = matcher.match(dress(sample.line))
        dressed_right += bool(found) and found[0].playbook == sample.playbook
    assert right > 300
    assert dressed_right >= 0.97 * right  # read raw only: 77 % (quotes), 93 % (colour), 63 % (spaces)


def test_a_veto_holds_beneath_a_colour_code(matcher: Matcher) -> None:
    # `unless` vetoes are written for the message (`^\\s*0 TypeScript errors`); coloured,
    # the raw line starts with ESC, and its raw match must not outlive the plain veto.
    quiet = [line for _, line in ordinary_lines() if not matcher.match(line)]
    flagged = [line for line in quiet if matcher.match(f"\x1b[31m{line}\x1b[0m")]
    assert len(quiet) > 3000
    assert flagged == []  # 3 before the plain text's vetoes were applied to the raw reading
    line = "\x1b[32m0 TypeScript errors in 12 files\x1b[0m"
    assert matcher.explain(line) == []
    assert [veto.match.playbook for veto in matcher.vetoed(line)] == ["cdk-typescript-compile"]


def test_explain_names_a_pattern_once_though_both_readings_match(matcher: Matcher) -> None:
    line = 'Error: bucket “acme-logs” Task timed out after 3.00 seconds'
    patterns = [symptom.pattern for _, symptom in matcher.explain(line)]
    assert patterns and len(patterns) == len(set(patterns))


def test_an_example_counts_as_the_matcher_reads_it(tmp_path) -> None:
    # A pattern written for plain quotes, with an example as a web page shows it.
    (tmp_path / "q.yaml").write_text(playbook_yaml("quoted", """
        - pattern: 'bucket "(?P<bucket>[a-z-]+)" exists'
          examples:
            - 'bucket “acme-logs” exists'
        """), encoding="utf-8")
    catalog = load_catalog([str(tmp_path)])
    assert not catalog.problems, catalog.problems
    found = Matcher([catalog.get("quoted")]).match("bucket “acme-logs” exists")  # type: ignore[list-item]
    assert [(m.playbook, m.captures) for m in found] == [("quoted", {"bucket": "acme-logs"})]


def test_a_json_objects_strings_are_read_one_a_line() -> None:
    line = ('{"level":"ERROR","count":3,"ok":true,"message":"say \\"hi\\", then stop",'
            '"nested":{"a":["x","y"]},"none":null}')
    view = readable(line)
    assert view is not None
    assert view.text.split("\n") == ["", "level", "ERROR", "count", "ok", "message", 'say "hi", then stop',
                                     "nested", "a", "x", "y", "none", ""]
    start = view.text.index("say")
    first, last = view.raw_span(start, start + len('say "hi", then stop'))
    assert line[first:last] == 'say \\"hi\\", then stop'


def test_a_loggers_prefix_stays_and_only_an_object_is_split() -> None:
    assert readable('2024-05-01T10:00:00Z INFO {"message":"x"}').text == "2024-05-01T10:00:00Z INFO \nmessage\nx\n"  # type: ignore[union-attr]
    assert readable('values "a","b" and more') is None  # no object: quotes and commas are text
    assert readable('{"cut":"before its end') is None


def test_past_a_thousand_strings_the_rest_of_an_object_is_one_text() -> None:
    # A hostile line of many empty strings costs what a plain line of its length does.
    line = "{" + ",".join(f'"k{i}":"v{i}"' for i in range(MAX_EDGES)) + ',"message":"Task timed out"}'
    pieces = readable(line).text.split("\n")  # type: ignore[union-attr]
    assert pieces[:5] == ["", "k0", "v0", "k1", "v1"]
    assert len(pieces) == MAX_EDGES + 1
    assert pieces[-1].endswith('"message":"Task timed out"}')


ANCHORED = """
    - pattern: '^Value for undeclared variable$'
      unless: '"severity"\\s*:\\s*"warning"'
      examples:
        - 'Value for undeclared variable'
    """


def decisions(matcher: Matcher, line: str) -> list[list[str]]:
    """The playbooks `match`, `match_many` and `scan` each find on `line`, best first."""
    scanned = [m for _, _, ms in matcher.scan(line.encode()) for m in ms]
    return [[m.playbook for m in found] for found in (matcher.match(line), matcher.match_many([line])[0], scanned)]


@pytest.mark.parametrize("engine", ["python", "hyperscan"])
def test_an_anchored_pattern_holds_in_a_json_envelope_and_its_veto_reads_the_envelope(tmp_path, engine: str) -> None:
    if engine == "hyperscan":
        pytest.importorskip("hyperscan")
    (tmp_path / "a.yaml").write_text(playbook_yaml("anchored", ANCHORED), encoding="utf-8")
    catalog = load_catalog([str(tmp_path)], include_builtin=False)
    assert not catalog.problems, catalog.problems
    matcher = Matcher(catalog, engine=engine)
    error = '{"severity":"error","summary":"Value for undeclared variable","detail":"no variable named x"}'
    warning = error.replace('"error"', '"warning"')
    for line, expected in ((error, ["anchored"]), (warning, [])):
        assert decisions(matcher, line) == [expected] * 3
    chosen = matcher.match(error)[0]
    assert error[chosen.start:chosen.end] == "Value for undeclared variable"
    assert matcher.explain(warning) == []
    assert [veto.by for veto in matcher.vetoed(warning)] == ["unless"]


@pytest.mark.parametrize("engine", ["python", "hyperscan"])
def test_a_veto_reads_every_line_an_escaped_text_encodes(tmp_path, engine: str) -> None:
    # A Go error chain in one line: the veto's text is on the escaped line after the match,
    # and a trailing colour code means the line is no JSON object.
    if engine == "hyperscan":
        pytest.importorskip("hyperscan")
    (tmp_path / "c.yaml").write_text(playbook_yaml("creds", """
        - pattern: '^WebIdentityErr: failed to retrieve credentials'
          unless: 'caused by: AccessDenied'
          examples:
            - 'WebIdentityErr: failed to retrieve credentials'
        """), encoding="utf-8")
    matcher = Matcher(load_catalog([str(tmp_path)], include_builtin=False), engine=engine)
    denied = "\x1b[31mreconcile: \\nWebIdentityErr: failed to retrieve credentials\\ncaused by: AccessDenied: no\x1b[0m"
    expired = denied.replace("AccessDenied", "ExpiredToken")
    for line, expected in ((expired, ["creds"]), (denied, [])):
        assert decisions(matcher, line) == [expected] * 3
    assert matcher.explain(denied) == []
    assert [veto.by for veto in matcher.vetoed(denied)] == ["unless"]


def test_a_common_anchored_pattern_looked_for_by_its_regex_still_finds_a_json_string(tmp_path) -> None:
    # Its literal on every line makes Hyperscan look for the regex itself; a `^` there would
    # miss the string that starts mid-line.
    pytest.importorskip("hyperscan")
    (tmp_path / "w.yaml").write_text(playbook_yaml("widget", """
        - pattern: '^widget \\d+ failed for good'
          examples:
            - 'widget 7 failed for good'
        """), encoding="utf-8")
    matcher = Matcher(load_catalog([str(tmp_path)], include_builtin=False), engine="hyperscan")
    lines = [f"note: widget {i} failed for good, retrying" for i in range(4000)]
    lines[2500] = '{"level":"ERROR","message":"widget 7 failed for good"}'
    data = "\n".join(lines).encode()
    found = [(data[:start].count(b"\n"), [m.playbook for m in ms]) for start, _, ms in matcher.scan(data)]
    assert found == [(2500, ["widget"])]


def test_an_envelope_looks_for_each_veto_once() -> None:
    # A hostile object of a thousand matching strings must not search its 256 KiB a thousand times.
    class Counting:
        searches = 0

        def search(self, text: str):  # type: ignore[no-untyped-def]
            Counting.searches += 1
            return None if "warning" not in text else text

    found = Envelope('{"severity":"warning","summary":"x"}')
    veto = Counting()
    assert all(found.holds(veto) for _ in range(1000))  # type: ignore[arg-type]
    assert Counting.searches == 1
