"""The prefilter's narrowing of a numeric compare: a regex every line where the compare
holds must match (or an out-of-memory REPORT line would be lost), and that most ordinary
REPORT lines do not (or every one of them reaches Python)."""

from __future__ import annotations

import random
import re

import pytest

from warroom.playbook.catalog import load_catalog
from warroom.playbook.compare_narrow import narrowed
from warroom.playbook.hsprefilter import HyperscanPrefilter
from warroom.playbook.matcher import Matcher
from warroom.playbook.model import Compare

PATTERN = r"Memory Size: (?P<memory>\d+) MB\s+Max Memory Used: (?P<used>\d+) MB"
REPORT = ("REPORT RequestId: 6f1c2b7e-9a3d-4c55-8f21-1a2b3c4d5e6f\tDuration: 12.5 ms\t"
          "Billed Duration: 13 ms\tMemory Size: {memory} MB\tMax Memory Used: {used} MB")


def values(rng: random.Random) -> str:
    """A number of 1 to 8 digits, sometimes zero-led."""
    text = str(rng.randrange(1, 10 ** rng.randrange(1, 9)))
    return "0" * rng.choice([0, 0, 0, 1, 2]) + text


@pytest.mark.parametrize("op", ["==", ">", ">=", "<", "<="])
def test_every_line_where_the_compare_holds_matches(op: str) -> None:
    compare = Compare("used", op, "memory")
    regex = re.compile(narrowed(PATTERN, [compare]) or "")
    rng = random.Random(op)
    held = 0
    for _ in range(20000):
        memory = values(rng)
        used = rng.choice([values(rng), memory, str(int(memory) + rng.randrange(-2, 3)).lstrip("-")])
        line = REPORT.format(memory=memory, used=used)
        found = re.search(PATTERN, line)
        assert found is not None
        if compare.holds(found):  # type: ignore[arg-type] - re.Match has .group
            held += 1
            assert regex.search(line), line
    assert held > 2000


@pytest.mark.parametrize("pattern", [
    PATTERN,
    # The head cut at the first group is no regex by itself here: the pattern is spelled whole.
    r"(?:REPORT|Memory Size: (?P<memory>\d+) MB)\s+Max Memory Used: (?P<used>\d+) MB",
])
def test_the_text_before_the_groups_is_written_once_when_it_can_be(pattern: str) -> None:
    regex = narrowed(pattern, [Compare("used", ">=", "memory")]) or ""
    assert regex.count("Max Memory Used: ") > 1
    assert regex.count("Memory Size: ") == (1 if pattern == PATTERN else regex.count("Max Memory Used: "))
    compiled = re.compile(regex)
    for memory, used, held in [(128, 130, True), (512, 600, True), (1024, 300, False)]:
        line = REPORT.format(memory=memory, used=used)
        assert bool(compiled.search(line)) is held


def test_ordinary_report_lines_do_not_match() -> None:
    # An out-of-memory threshold: lines well under their memory are left out.
    both = [Compare("used", "==", "memory"), Compare("used", ">", "memory")]
    regex = re.compile(narrowed(PATTERN, both) or "")
    for memory, used in [(128, 60), (512, 199), (1024, 300), (3008, 2100), (10240, 9000)]:
        assert not regex.search(REPORT.format(memory=memory, used=used))
    for memory, used in [(128, 128), (128, 130), (512, 600), (1024, 1024), (99, 100)]:
        assert regex.search(REPORT.format(memory=memory, used=used))


@pytest.mark.parametrize("pattern,compare", [
    (PATTERN, Compare("used", "!=", "memory")),           # no necessary condition to spell
    (r"ERRX (?P<a>[\w.]+)=(?P<b>\d+)", Compare("a", ">", "b")),  # not a plain number
    (PATTERN, Compare("used", ">", "used")),
    (PATTERN + r" (?P<used>\d+)", Compare("used", ">", "memory")),  # a name twice
])
def test_compares_it_cannot_narrow_are_left_as_they_are(pattern: str, compare: Compare) -> None:
    assert narrowed(pattern, [compare]) is None


def test_only_report_lines_near_their_memory_reach_python() -> None:
    pytest.importorskip("hyperscan")
    rng = random.Random(5)
    lines = [REPORT.format(memory=512, used=rng.randrange(60, 400)) for _ in range(5000)]
    lines[100] = REPORT.format(memory=512, used=512)
    matcher = Matcher(load_catalog(), engine="hyperscan")
    assert isinstance(matcher.prefilter, HyperscanPrefilter)
    data = "\n".join(lines).encode()
    # From the start, untuned: a tail's batches (`many`) are never tuned on.
    assert sum(1 for found in matcher.prefilter.many(lines) if found) < 100
    assert len(matcher.prefilter.block(data)) < 100  # 512 with a leading 5-9: under 10 % of 60..399
    found = [start for start, _, _ in matcher.scan(data)]
    assert found == [data.index(lines[100].encode())]
    assert [i for i, found in enumerate(matcher.match_many(lines)) if found] == [100]
    # The symptom's `unless` (SAM local's sub-millisecond init) vetoes only more: it keeps the narrowing.
    local = lines[100].replace("\tDuration:", "\tInit Duration: 0.31 ms\tDuration:")
    assert matcher.match(local) == [] and [m.playbook for m in matcher.match(lines[100])] == ["lambda-out-of-memory"]
