"""The regex prefilter: patterns whose literals are common are looked for by the regexes
themselves (Hyperscan's prefilter mode). It may only ever narrow the lines RE2 reads,
never drop one RE2 would match; and the ASCII fast path of the confirmation must say
what `TextSymptom.search` says.
"""

from __future__ import annotations

import functools
import random
import sys
from pathlib import Path

import pytest
import re2

from tests.adversarial import hostile_lines
from tests.corpus import ordinary_lines, symptom_samples
from tests.playbook_yaml import playbook_yaml
from warroom.playbook.anchors import anchored
from warroom.playbook.catalog import load_catalog
from warroom.playbook import hsprefilter
from warroom.playbook.hsprefilter import HyperscanPrefilter, regexes_sound
from warroom.playbook.linear import utf8
from warroom.playbook.matcher import Match, Matcher, _rank
from warroom.playbook.readable import Envelope, escaped, readable

hyperscan = pytest.importorskip("hyperscan")

REPORT = ("REPORT RequestId: 6f1c2b7e-9a3d-4c55-8f21-1a2b3c4d5e6f\tDuration: 123.45 ms\t"
          "Billed Duration: 124 ms\tMemory Size: {size} MB\tMax Memory Used: {used} MB")


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def python(catalog) -> Matcher:
    return Matcher(catalog, engine="python")


@pytest.fixture(scope="module")
def by_regex(catalog) -> Matcher:
    """A matcher looking for every pattern it can by its regex."""
    matcher = Matcher(catalog, engine="hyperscan")
    prefilter = matcher.prefilter
    assert isinstance(prefilter, HyperscanPrefilter)
    chosen = prefilter.prefilter_by_regex(range(len(matcher._leads)))
    assert len(chosen) > 0.75 * len(matcher._leads)  # most are ASCII and end-free (not `│`, `$`)
    return matcher


def scanned(matcher: Matcher, lines: list[str], newline: str = "\n") -> list[list[Match]]:
    """`matcher.scan` over the lines joined, as one result per line."""
    data = newline.join(lines).encode("utf-8", "surrogatepass")
    found = {start: matches for start, _, matches in matcher.scan(data)}
    out, start = [], 0
    for line in lines:
        out.append(found.get(start, []))
        start += len(line.encode("utf-8", "surrogatepass")) + len(newline)
    return out


@functools.cache
def contextual(matcher: Matcher) -> frozenset[str]:
    """The patterns a JSON object's string can decide otherwise than its raw line: an
    anchored one, or one a veto shares."""
    vetoed = {e.symptom.pattern for e in matcher.entries if e.symptom.unless or e.symptom.compare}
    return frozenset(e.symptom.pattern for e in matcher.entries
                     if anchored(e.symptom.pattern) or e.symptom.pattern in vetoed)


@functools.cache
def regex_sets(matcher: Matcher) -> list[tuple[re2.Set, list[int]]]:
    """The symptoms' regexes in RE2 sets of a few each, with the entries each set's indexes name."""
    # RE2's own multi-pattern search, not the prefilter's literals: it only spares the
    # reference the searches of patterns whose regex cannot match the text. Small sets
    # keep each one's DFA small (one set of all patterns runs 5x slower).
    sets = []
    for caseless in (False, True):
        members = [i for i, e in enumerate(matcher.entries) if e.symptom.ignore_case == caseless]
        for k in range(0, len(members), 25):
            options = re2.Options()
            options.case_sensitive, options.log_errors = not caseless, False
            regex_set = re2.Set.SearchSet(options)
            for i in members[k:k + 25]:
                regex_set.Add(matcher.entries[i].symptom.pattern)
            regex_set.Compile()
            sets.append((regex_set, members[k:k + 25]))
    return sets


def regex_matches(matcher: Matcher, text: str) -> list[int]:
    """The entries whose regex matches somewhere in `text`, in the matcher's order."""
    data, _ = utf8(text)
    return sorted(members[k] for regex_set, members in regex_sets(matcher)
                  for k in regex_set.Match(data) or ())


def reference(matcher: Matcher, line: str) -> list[Match]:
    """What the matcher must say, from `TextSymptom.search` on every symptom (no prefilter)
    whose regex matches, in the line and in each line of the text its escapes encode
    (spans put back)."""
    view = readable(line)
    text = view.text if view is not None else line
    within = Envelope(line)  # a JSON object's strings, an escaped text's lines, are found within it
    # With nothing else to undo, its strings are read for the patterns they can decide
    # otherwise than the raw line: an anchored one, or one under a veto.
    strings_only = view is not None and not escaped(line)
    pieces = [(line, lambda a, b: (a, b))]
    if view is not None or "\n" in line:
        base = 0
        for sub in text.split("\n"):
            def back(a: int, b: int, base: int = base) -> tuple[int, int]:
                return view.raw_span(base + a, base + b) if view is not None else (base + a, base + b)
            pieces.append((sub.rstrip("\r"), back))
            base += len(sub) + 1
    best: dict[str, Match] = {}
    for n, (piece, back) in enumerate(pieces):
        for entry in map(matcher.entries.__getitem__, regex_matches(matcher, piece)):
            if n and strings_only and entry.symptom.pattern not in contextual(matcher):
                continue
            found = entry.symptom.search(piece, within=within if n else None)
            if found is None:
                continue
            match = Match(entry.playbook.id, entry.playbook.title, *back(found.start(), found.end()),
                          {k: v for k, v in found.groupdict().items() if v is not None},
                          entry.symptom.priority)
            if entry.playbook.id not in best or _rank(match) < _rank(best[entry.playbook.id]):
                best[entry.playbook.id] = match
    return sorted(best.values(), key=_rank)


def corpus_lines(seed: int = 11) -> list[str]:
    lines = [s.line for s in symptom_samples()] + [line for _, line in ordinary_lines()]
    random.Random(seed).shuffle(lines)
    return lines


def test_prefiltering_by_regex_drops_no_corpus_line(python: Matcher, by_regex: Matcher) -> None:
    lines = corpus_lines()
    expected = python.match_many(lines)
    assert sum(1 for found in expected if found) > 1000
    assert scanned(by_regex, lines) == expected
    assert by_regex.match_many(lines) == expected
    # Windows line ends: RE2 reads each line without its `\r`.
    assert scanned(by_regex, lines, "\r\n") == expected


@pytest.fixture(scope="module")
def hostile(catalog, python: Matcher) -> tuple[list[str], list[list[Match]]]:
    """The small hostile lines and what the Python prefilter's matcher finds in them (slow:
    made once for the tests that compare the other prefilters with it)."""
    lines = [h.line for h in hostile_lines(catalog, small=True)]
    return lines, python.match_many(lines)


def test_prefiltering_by_regex_drops_no_hostile_line(hostile, by_regex: Matcher) -> None:
    lines, expected = hostile
    assert scanned(by_regex, lines) == expected
    assert by_regex.match_many(lines) == expected


def test_both_prefilters_agree_on_hostile_lines(catalog, hostile) -> None:
    lines, expected = hostile
    native = Matcher(catalog, engine="hyperscan")
    assert native.match_many(lines) == expected
    assert [native.match(line) for line in lines] == expected
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line.encode()) + 1)
    scanned = [(start, found) for start, _, found in native.scan("\n".join(lines).encode())]
    assert scanned == [(start, found) for start, found in zip(starts, expected) if found]


def test_python_prefilter_admits_what_every_pattern_admits(catalog, python: Matcher) -> None:
    # The pairs of characters only choose which literals to look for: the candidates are
    # those whose every required set has a literal in the line, as testing each would say.
    hostile = [h.line for h in hostile_lines(catalog, small=True)]
    lines = corpus_lines()[::3] + hostile[::30] + ["", "x", "Ab"]
    leads = python._leads
    for line in lines:
        lower = line.lower()
        assert python.prefilter.line(line) == {i for i, e in enumerate(leads) if e.admits(line, lower)}, line


def user_matcher(tmp_path: Path, *patterns: str) -> tuple[Matcher, Matcher]:
    """(python, hyperscan looking for every pattern by its regex) for one user playbook."""
    symptoms = "".join(f"- pattern: '{p}'\n" for p in patterns)
    (tmp_path / "u.yaml").write_text(playbook_yaml("user-symptom", symptoms))
    catalog = load_catalog([str(tmp_path)])
    assert not catalog.problems, catalog.problems
    mine = [pb for pb in catalog if pb.id == "user-symptom"]
    native = Matcher(mine, engine="hyperscan")
    native.prefilter.prefilter_by_regex(range(len(native._leads)))  # type: ignore[attr-defined]
    return Matcher(mine, engine="python"), native


@pytest.mark.parametrize("pattern,line", [
    # Hyperscan reads bytes: `.{3}` is three characters to RE2, six bytes here.
    (r"ERRX.{3}Y", "ERRXéüöY"),
    (r"ERRX\S\S", "ERRX\x0b\x0b"),         # RE2's \S takes a vertical tab, Hyperscan's not
    (r"ERRX done$", "ERRX done"),            # scanned with a `\r\n` line end below
    (r"^ERRX", "ERRX at the start"),         # `^` at each line's start, not the block's
    (r"ERRX(?:ab){0}cde", "ERRXcde"),        # a repeat Hyperscan refuses: its literals
    (r"ERRX \d+ (?:ms|s)\b", "took ERRX 12 ms"),
])
def test_lines_hyperscan_reads_differently_still_match(tmp_path: Path, pattern: str, line: str) -> None:
    python, native = user_matcher(tmp_path, pattern)
    by_regex = "$" not in pattern and "{0}" not in pattern  # else by its literals
    assert native.prefilter._hot == ({0} if by_regex else frozenset())  # type: ignore[attr-defined]
    lines = ["ordinary", line, "ERRX", line + " tail", "é ordinary"]
    expected = python.match_many(lines)
    assert expected[1], "the case must match at all"
    assert scanned(native, lines) == expected
    assert scanned(native, lines, "\r\n") == expected
    assert native.match_many(lines) == expected


def test_tuning_prefilters_the_patterns_every_report_line_wakes(catalog, python: Matcher) -> None:
    rng = random.Random(3)
    lines = [REPORT.format(size=512, used=rng.randrange(60, 200)) for _ in range(4000)]
    lines[1000] = REPORT.format(size=512, used=512)
    lines[2000] = REPORT.format(size=128, used=130)
    lines[3000] = "Task timed out after 3.00 seconds"
    native = Matcher(catalog, engine="hyperscan")
    got = scanned(native, lines)
    prefilter = native.prefilter
    assert isinstance(prefilter, HyperscanPrefilter)
    hot = {native._leads[k].playbook.id for k in prefilter._hot}
    assert "lambda-out-of-memory" in hot
    assert got == python.match_many(lines)
    assert [i for i, found in enumerate(got) if found] == [1000, 2000, 3000]


def test_a_line_repeating_a_regex_match_is_read_once(by_regex: Matcher, python: Matcher) -> None:
    # A hot pattern reports once per line, at its end, however often it matches.
    line = " ".join([REPORT.format(size=512, used=100)] * 3000 + [REPORT.format(size=256, used=256)])
    lines = ["x", line, REPORT.format(size=1, used=1)]
    assert scanned(by_regex, lines) == python.match_many(lines)
    assert scanned(by_regex, lines)[1][0].captures == {"memory": "256", "used": "256"}


@pytest.mark.parametrize("size,used", [
    ("512", "512"), ("512", "0512"), ("512", "513"), ("512", "511"), ("1e3", "1000"),
    ("0", "0"), ("99999999999999999999", "99999999999999999998"),  # equal as floats
])
def test_fast_confirmation_says_what_search_says(python: Matcher, size: str, used: str) -> None:
    # One RE2 run serves both compares of the shared REPORT pattern; the verdicts and
    # the captures are still each symptom's own.
    line = REPORT.format(size=size, used=used)
    both = REPORT.format(size=512, used=100) + " " + line
    expected = [reference(python, line), reference(python, both)]
    assert [python.match(line), python.match(both)] == expected
    assert scanned(python, [line, both]) == expected  # a line only compares could match


@pytest.mark.parametrize("op", ["==", "!=", ">", "<="])
def test_fast_confirmation_compares_text_as_search_does(tmp_path: Path, op: str) -> None:
    pattern = r"ERRX (?P<a>[\w.+-]+)=(?P<b>[\w.+-]+)"
    (tmp_path / "c.yaml").write_text(playbook_yaml("user-compare", f"""
        - pattern: '{pattern}'
          compare: {{left: a, op: '{op}', right: b}}
        """))
    catalog = load_catalog([str(tmp_path)])
    assert not catalog.problems, catalog.problems
    mine = [pb for pb in catalog if pb.id == "user-compare"]
    values = ["x=x", "a=b", "b=a", "1_0=10", "nan=nan", "inf=inf", "1e3=1000", "10=9", "9=10",
              "-1=+1", "x=x ERRX 2=1", "2=1 ERRX 3=3"]
    lines = [f"ERRX {v}" for v in values]
    for engine in ("python", "hyperscan"):
        matcher = Matcher(mine, engine=engine)
        expected = [reference(matcher, line) for line in lines]
        assert any(expected) and not all(expected)
        assert [matcher.match(line) for line in lines] == expected
        assert scanned(matcher, lines) == expected


def test_fast_confirmation_on_every_corpus_line(python: Matcher) -> None:
    lines = corpus_lines()
    assert [python.match(line) for line in lines] == [reference(python, line) for line in lines]


def test_engines_agree_on_the_kelvin_sign(catalog, python: Matcher, by_regex: Matcher) -> None:
    # `str.lower()` and RE2 both read U+212A as `k`: so must Hyperscan's caseless literals.
    lines = [line.replace("k", "\u212a") for line in corpus_lines() if "k" in line]
    expected = python.match_many(lines)
    assert sum(1 for found in expected if found) > 100
    native = Matcher(catalog, engine="hyperscan")
    assert native.match_many(lines) == expected
    assert [native.match(line) for line in lines] == expected
    assert scanned(native, lines) == expected
    assert scanned(by_regex, lines) == expected


def tuned_on_symptoms(catalog) -> Matcher:
    """A Hyperscan matcher whose scan tuned it on the corpus, text dense with symptoms, in
    the order that met Vectorscan 5.4.12's bug (the tuning reads the first 512 KiB)."""
    matcher = Matcher(catalog, engine="hyperscan")
    for _ in matcher.scan("\n".join(corpus_lines(seed=7)).encode("utf-8", "surrogatepass")):
        pass
    return matcher


def test_a_matcher_tuned_on_symptoms_finds_what_each_line_alone_finds(catalog) -> None:
    # Tuned on text dense with symptoms, hundreds of patterns are looked for by their
    # regexes in one database. Hyperscan 0.9.1 (Vectorscan 5.4.12) then reported none of
    # `\|\s*INSUFFICIENT_DATA\s*\|` on a table row beside `\|\s+PendingConfirmation\s+\|`,
    # and the row was lost.
    matcher = tuned_on_symptoms(catalog)
    lines = corpus_lines()
    assert len(matcher.prefilter._hot) > 50  # type: ignore[attr-defined]
    assert matcher.match_many(lines) == [matcher.match(line) for line in lines]


def test_the_installed_engine_finds_the_row_vectorscan_5_4_12_loses() -> None:
    # pyproject pins the last release on 5.4.11 wherever it has a wheel.
    assert regexes_sound(hyperscan) or sys.version_info >= (3, 14)


def test_an_engine_that_loses_regexes_lines_prefilters_by_literals(catalog, monkeypatch) -> None:
    monkeypatch.setattr(hsprefilter, "regexes_sound", lambda _hs: False)
    matcher = tuned_on_symptoms(catalog)
    prefilter = matcher.prefilter
    assert prefilter._hot == frozenset()  # type: ignore[attr-defined]
    assert prefilter.prefilter_by_regex(range(len(matcher._leads))) == frozenset()  # type: ignore[attr-defined]
    lines = corpus_lines()
    assert matcher.match_many(lines) == [matcher.match(line) for line in lines]
