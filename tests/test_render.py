"""`warroom playbooks show` text: a symptom's vetoes are shown with its pattern."""

from __future__ import annotations

from warroom.playbook.linear import Regex
from warroom.playbook.model import Compare, TextSymptom
from warroom.playbook.render import symptom_text


def _symptom(pattern: str, **extra: object) -> TextSymptom:
    return TextSymptom(pattern=pattern, regex=Regex(pattern), **extra)  # type: ignore[arg-type]


def test_unless_and_compare_are_shown() -> None:
    oom = _symptom(r"Memory Size: (?P<memory>\d+) MB\s+Max Memory Used: (?P<used>\d+) MB",
                   compare=Compare("used", "==", "memory"))
    assert symptom_text(oom) == (r"log line /Memory Size: (?P<memory>\d+) MB\s+Max Memory Used: "
                                 r"(?P<used>\d+) MB/ where used == memory")
    vetoed = _symptom("status: 50[02]", unless=Regex(r"status: 50[02]\d"), log_groups=("/aws/*",))
    assert symptom_text(vetoed) == r"log line /status: 50[02]/ unless /status: 50[02]\d/ in /aws/*"


def test_plain_symptom_has_no_veto_text() -> None:
    assert symptom_text(_symptom("Task timed out", ignore_case=True)) == "log line /Task timed out/ (any case)"
