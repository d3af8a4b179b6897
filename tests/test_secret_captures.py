"""A pattern that captures a secret, or part of one, gives only its masked part to `scan`,
`check` and everything else that shows captures: captures are masked by their place in the line."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from warroom.aws.health import record_findings
from warroom.aws.service_model import check_call
from warroom.incident.records import Record
from warroom.playbook.catalog import load_layer
from warroom.playbook.matcher import Matcher
from warroom.redact import redact_captures

from tests.test_secrets import AWS_SECRET
from tests.test_secrets_shown import warroom

LINE = f"boto: secret_access_key={AWS_SECRET} loaded for user=night-shift"

# A user's playbook whose patterns capture all, part or the context of a secret.
CAPTURING = textwrap.dedent("""\
    id: {pid}
    title: Captures a secret
    service: iam
    severity: high
    sources: [{{file: guide.md, section: A}}]
    symptoms:
      - pattern: '{pattern}'
    cause: x
    fix: [{{title: Rotate it, manual: Rotate the key.}}]
    prevention: y
    """)
PATTERNS = {
    # capture -> what `scan --json` shows
    r"secret_access_key=(?P<key>\S+) loaded for user=(?P<user>\S+)": {
        "key": "*" * len(AWS_SECRET), "user": "night-shift"},
    r"secret_access_key=wJalr(?P<key>\S{6})": {"key": "******"},
    r"boto: (?P<setting>\S+)": {"setting": "secret_access_key=" + "*" * len(AWS_SECRET)},
}


def test_each_capture_is_masked_where_the_line_is() -> None:
    start = LINE.index("secret_access_key")
    for value, shown in [(AWS_SECRET, "*" * len(AWS_SECRET)), (AWS_SECRET[5:11], "******"),
                         ("secret_access_key", "secret_access_key"), ("night-shift", "night-shift")]:
        assert redact_captures(LINE, start, len(LINE), {"v": value}) == {"v": shown}, value


def test_a_value_found_twice_in_a_masked_match_is_masked_whole() -> None:
    line = "token=abcdefghijklmnopqrstuvwx abcd"
    assert redact_captures(line, 0, len(line), {"v": "abcd"}) == {"v": "****"}
    # Nothing masked in the match: captures as they are, even if repeated.
    plain = "timeout timeout after 30 s"
    assert redact_captures(plain, 0, len(plain), {"v": "timeout", "n": "30"}) == {"v": "timeout", "n": "30"}


def test_the_context_of_a_secret_may_lie_before_the_match() -> None:
    start = LINE.index(AWS_SECRET)
    assert redact_captures(LINE, start, start + len(AWS_SECRET), {"k": AWS_SECRET}) == {
        "k": "*" * len(AWS_SECRET)}


def user_playbooks(directory: Path) -> Path:
    for n, pattern in enumerate(PATTERNS):
        (directory / f"captures-{n}.yaml").write_text(CAPTURING.format(pid=f"captures-{n}", pattern=pattern))
    return directory


def test_scan_json_shows_only_the_masked_part(tmp_path: Path) -> None:
    result = warroom("--playbooks", str(user_playbooks(tmp_path)), "scan", "--json", stdin=LINE + "\n")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    captures = {m["playbook"]: m["captures"] for m in record["matches"]}
    assert captures == {f"captures-{n}": shown for n, shown in enumerate(PATTERNS.values())}
    assert AWS_SECRET[5:11] not in result.stdout


@pytest.mark.parametrize(("n", "shown"), enumerate(PATTERNS.values()))
def test_check_findings_from_stack_and_build_lines_are_masked(tmp_path: Path, n: int,
                                                              shown: dict[str, str]) -> None:
    catalog = load_layer([user_playbooks(tmp_path)], check_call)
    matches = [m for m in Matcher(catalog).match(LINE) if m.playbook == f"captures-{n}"]
    record = Record("codebuild", "deploy-project", "build-1", 0, "e1", LINE, matches=matches)
    [finding] = record_findings([record], catalog, "project")
    assert {k: v for k, v in finding.captures.items() if k in shown} == shown


def test_a_256k_capture_inside_a_256k_secret_is_masked_whole() -> None:
    line = "password=" + "a" * 262144
    assert redact_captures(line, 0, len(line), {"v": "a" * 131072}) == {"v": "*" * 131072}
