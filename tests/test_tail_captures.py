"""Captures that hold a secret, or part of one, are masked in `tail --json` and in the
console's findings exactly as `scan` masks them: by their place in the line."""

from __future__ import annotations

import io
import json
from pathlib import Path

from warroom.aws.service_model import check_call
from warroom.incident.records import Record
from warroom.incident.store import IncidentStore
from warroom.playbook.catalog import load_layer
from warroom.playbook.matcher import Matcher
from warroom.tail import TailPrinter

from tests.test_secret_captures import LINE, PATTERNS, user_playbooks
from tests.test_secrets import AWS_SECRET


def _record(tmp_path: Path) -> tuple[Record, list]:  # type: ignore[type-arg]
    catalog = load_layer([user_playbooks(tmp_path)], check_call)
    matches = Matcher(catalog).match(LINE)
    return Record("/aws/lambda/night", "night", "s1", 1_700_000_000_000, "e1", LINE, matches=matches), catalog


def test_tail_json_masks_each_capture_where_the_line_is(tmp_path: Path) -> None:
    record, _ = _record(tmp_path)
    out = io.StringIO()
    TailPrinter(out, as_json=True).batch([record])
    obj = json.loads(out.getvalue())
    captures = {m["playbook"]: m["captures"] for m in obj["matches"]}
    assert captures == {f"captures-{n}": shown for n, shown in enumerate(PATTERNS.values())}
    assert AWS_SECRET[5:11] not in out.getvalue()


def test_the_console_finding_of_a_line_keeps_only_masked_captures(tmp_path: Path) -> None:
    record, catalog = _record(tmp_path)
    store = IncidentStore(catalog)
    store.push([record])
    store.drain()
    [finding] = store.active_findings()
    assert {k: finding.captures[k] for k in ("key", "user")} == PATTERNS[next(iter(PATTERNS))]
