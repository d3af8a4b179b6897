"""Patterns stay cheap: high-volume log lines wake (almost) no pattern, and each pattern
compiles to a small RE2 program.

The prefilter runs a pattern only on lines holding one of its required literals (it picks
the rarest set for the input). A pattern whose every literal set is a common word (`item`,
`status`, `lock`) makes every ordinary line of that shape pay for an RE2 search; the
bench (bench/scan.py) measures the cost, this test names the pattern.
"""

from __future__ import annotations

import pytest
import re2

from warroom.playbook.catalog import load_catalog
from warroom.playbook.matcher import Matcher
from warroom.playbook.model import TextSymptom

# The shapes a serverless stack logs most, as in bench/scan.py's background traffic.
HIGH_VOLUME = [
    "START RequestId: 6f1c2b7e-9a3d-4c55-8f21-1a2b3c4d5e6f Version: $LATEST",
    "END RequestId: 6f1c2b7e-9a3d-4c55-8f21-1a2b3c4d5e6f",
    "REPORT RequestId: 6f1c2b7e-9a3d-4c55-8f21-1a2b3c4d5e6f\tDuration: 123.45 ms\tBilled Duration: 124 ms\t"
    "Memory Size: 512 MB\tMax Memory Used: 87 MB",
    '{"requestId":"6f1c2b7e-9a3d-4c55-8f21-1a2b3c4d5e6f","ip":"10.0.3.7","httpMethod":"GET",'
    '"routeKey":"GET /items","status":"200","responseLength":"2048","integrationLatency":"87"}',
    "[Container] 2024/05/01 10:15:07.123456 Running command npm ci",
    "2024-05-01T10:15:07.123Z\t6f1c2b7e-9a3d-4c55-8f21-1a2b3c4d5e6f\tINFO\tprocessed batch size=12 errors=0 elapsed_ms=87",
    "2024-05-01T10:15:07.123Z\t6f1c2b7e-9a3d-4c55-8f21-1a2b3c4d5e6f\tDEBUG\tGET https://api.github.com/graphql 200 remaining=4711",
    "2024-05-01T10:15:07.123Z\t6f1c2b7e-9a3d-4c55-8f21-1a2b3c4d5e6f\tINFO\tlock acquired for work item #12 by bos-dev-api-handler",
    "2024-05-01T10:15:07.123Z\t6f1c2b7e-9a3d-4c55-8f21-1a2b3c4d5e6f\tWARN\tslow downstream call took 812 ms, retrying attempt 1",
    "2024-05-01T10:15:07.123Z\t6f1c2b7e-9a3d-4c55-8f21-1a2b3c4d5e6f\tINFO\thandler finished status=ok error_rate=0.0 items=7",
]

# A threshold on a number or an equality between two numbers is no literal: these patterns
# run on every line of their shape (REPORT lines, API Gateway access logs) by design.
NUMERIC = {"lambda-out-of-memory", "apigw-high-latency"}


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_catalog(), engine="python")


def test_every_pattern_has_a_literal_set_absent_from_high_volume_lines(matcher: Matcher) -> None:
    lowered = [line.lower() for line in HIGH_VOLUME]
    common = []
    for entry in matcher.entries:
        if entry.playbook.id in NUMERIC:
            continue
        lines = lowered if entry.caseless else HIGH_VOLUME
        if all(any(lit in line for line in lines for lit in conj) for conj in entry.conjuncts):
            common.append(f"{entry.playbook.id}: /{entry.symptom.pattern}/ "
                          f"needs only {[sorted(c) for c in entry.conjuncts]}")
    assert common == []


def test_high_volume_lines_match_nothing(matcher: Matcher) -> None:
    assert [line for line in HIGH_VOLUME if matcher.match(line)] == []


# RE2 compiles a count into copies: `[^"\n]{1,1000}` is a thousand character classes. Every
# scan worker compiles each pattern it meets, and a catalog of large counts spent more time
# compiling than searching; `+`/`*` say the same for a name or a quoted value.
MAX_PROGRAM = 5_000  # RE2 instructions


def test_every_pattern_compiles_to_a_small_program() -> None:
    large = []
    for playbook in load_catalog().playbooks.values():
        for symptom in playbook.symptoms:
            if not isinstance(symptom, TextSymptom):
                continue
            for regex in (symptom.regex, symptom.unless):
                if regex is None:
                    continue
                compiled = re2.compile(regex.pattern, regex._options())  # noqa: SLF001 - its own options
                size = compiled._regexp.ProgramSize()  # noqa: SLF001
                if size > MAX_PROGRAM:
                    large.append(f"{playbook.id}: {size} instructions: /{regex.pattern[:120]}/")
    assert large == []
