"""The incident timeline as Markdown, from audit records (findings, steps, outcomes)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from warroom.incident.changes import Change
from warroom.redact import redact
from warroom.textout import inert

@dataclass
class StepRow:
    """One attempt at a step: its intent, outcome and verify records joined."""

    time: float
    playbook: str
    step: str
    action: str
    outcome: str = "no outcome recorded (interrupted?)"
    verify: str = ""
    records: list[dict[str, Any]] = field(default_factory=list)


def step_rows(records: Iterable[dict[str, Any]]) -> list[StepRow]:
    rows: list[StepRow] = []
    open_rows: dict[tuple[Any, ...], StepRow] = {}
    for r in records:
        kind = r.get("kind")
        key = (r.get("run"), r.get("phase"), r.get("step_number"))
        label = f"{r.get('step_number', '?')}. {r.get('step', '')}"
        if kind == "intent":
            action = r.get("cli") or (f"$ {r['shell']}" if r.get("shell") else r.get("call", ""))
            row = StepRow(r.get("ts", 0), r.get("playbook", ""), label, action)
            open_rows[key] = row
            rows.append(row)
        elif kind == "outcome" and key in open_rows:
            row = open_rows[key]
            if r.get("status") == "ok":
                row.outcome = "ok" + (f" (exit {r['exit_status']})" if "exit_status" in r else "")
            else:
                row.outcome = "FAILED: " + str(r.get("error") or f"exit status {r.get('exit_status')}")
        elif kind == "verify" and key in open_rows:
            open_rows.pop(key).verify = str(r.get("verify", ""))
        elif kind in ("declined", "refused", "manual", "aborted"):
            outcome = {"declined": "skipped (not confirmed)", "refused": "refused (read-only)",
                       "aborted": "run aborted here"}.get(kind) or (
                "marked done" if r.get("status") == "done" else "not marked done")
            rows.append(StepRow(r.get("ts", 0), r.get("playbook", ""), label,
                                r.get("call") or ("manual" if kind == "manual" else ""), outcome))
    return rows


def first_symptom(records: Iterable[dict[str, Any]]) -> float | None:
    """When the first finding's evidence happened (epoch seconds), if any finding was recorded."""
    times = [(r["seen_ms"] / 1000 if isinstance(r.get("seen_ms"), (int, float)) else r.get("ts", 0))
             for r in records if r.get("kind") == "finding"]
    return min(times) if times else None


def render(records: list[dict[str, Any]], source: str, since: float | None,
           changes: Sequence[Change] = ()) -> Iterator[str]:
    """Markdown lines: a header, findings, changes before them, steps taken, then everything in time order."""
    yield "# Incident timeline"
    yield ""
    if not records:
        window = f" since {_when(since)}" if since else ""
        yield f"No audit records in `{_code(source)}`{window}."
        return
    first, last = records[0].get("ts", 0), records[-1].get("ts", 0)
    yield f"- Audit log: `{_code(source)}`"
    yield f"- From {_when(first)} to {_when(last)} ({len(records)} records)"
    callers = sorted({f"{r['caller']} ({r.get('account', '?')})" for r in records if r.get("caller")})
    regions = sorted({str(r["region"]) for r in records if r.get("region")})
    if callers:
        yield f"- Caller: {', '.join(_md(c) for c in callers)}"
    if regions:
        yield f"- Region: {', '.join(_md(r) for r in regions)}"
    playbooks = sorted({str(r["playbook"]) for r in records if r.get("playbook")})
    if playbooks:
        yield f"- Playbooks: {', '.join(_md(p) for p in playbooks)}"
    findings = [r for r in records if r.get("kind") == "finding"]
    yield ""
    yield "## Findings seen"
    yield ""
    if findings:
        yield "| Time (UTC) | Playbook | Resource | Evidence |"
        yield "|---|---|---|---|"
        for r in findings:
            seen = r.get("seen_ms")  # when the evidence happened, not when it was recorded
            when = seen / 1000 if isinstance(seen, (int, float)) else r.get("ts")
            yield (f"| {_clock(when)} | {_md(r.get('playbook', ''))} | {_md(r.get('resource', ''))} "
                   f"| `{_code(r.get('evidence', ''), 160)}` |")
    else:
        yield "None recorded."
    if changes:
        yield ""
        yield "## Changes before the first symptom"
        yield ""
        yield "| Time (UTC) | Source | Change | Resource | By | What |"
        yield "|---|---|---|---|---|---|"
        for c in changes:
            yield (f"| {_clock(c.time)} | {_md(c.source)} | {_md(c.event)} | {_md(c.resource)} "
                   f"| {_md(c.actor)} | {_md(c.summary[:200])} |")
    rows = step_rows(records)
    yield ""
    yield "## Steps taken"
    yield ""
    if rows:
        yield "| Time (UTC) | Playbook | Step | Call or command | Outcome | Verify |"
        yield "|---|---|---|---|---|---|"
        for row in rows:
            action = f"`{_code(row.action, 200)}`" if row.action else ""
            yield (f"| {_clock(row.time)} | {_md(row.playbook)} | {_md(row.step)} | {action} "
                   f"| {_md(row.outcome)} | {_md(row.verify)} |")
    else:
        yield "None recorded."
    yield ""
    yield "## Timeline"
    yield ""
    entries = [(float(r.get("ts", 0)), _event(r)) for r in records]
    entries += [(c.time, _change(c)) for c in changes]
    for ts, line in sorted(entries, key=lambda e: e[0]):
        if line:
            yield f"- {_clock(ts)} {line}"


def _change(c: Change) -> str:
    who = f" by {_md(c.actor)}" if c.actor else ""
    what = f": {_md(c.summary[:200])}" if c.summary else ""
    return f"change **{_md(c.event)}** on {_md(c.resource)}{who}{what}"


def _event(r: dict[str, Any]) -> str:
    kind = r.get("kind")
    step = f"{r.get('phase', '')} {r.get('step_number', '')}. {_md(r.get('step', ''))}".strip()
    if kind == "finding":
        return (f"finding **{_md(r.get('playbook', ''))}** on {_md(r.get('resource', '') or '?')}: "
                f"`{_code(r.get('evidence', ''), 160)}`")
    if kind == "session":
        return f"run of **{_md(r.get('playbook', ''))}** started" + (
            f" by {_md(r['caller'])}" if r.get("caller") else "") + (" (read-only)" if r.get("read_only") else "")
    if kind == "diagnose":
        shown = r.get("shown")
        text = (", ".join(f"{k} = {v}" for k, v in shown.items()) if isinstance(shown, dict)
                else str(shown or ""))
        return f"{step}: " + (_md(text[:200]) if r.get("status") == "done"
                              else "failed: " + _md(r.get("error", "")))
    if kind == "intent":
        action = r.get("cli") or (f"$ {r['shell']}" if r.get("shell") else r.get("call", ""))
        return f"about to run {step}: `{_code(action, 200)}`"
    if kind == "outcome":
        return f"{step} " + ("succeeded" if r.get("status") == "ok" else "FAILED: " + _md(
            r.get("error") or f"exit status {r.get('exit_status')}"))
    if kind == "verify":
        return f"{step} {_md(r.get('verify', ''))}"
    if kind == "declined":
        return f"{step} not confirmed; skipped"
    if kind == "refused":
        return f"{step} refused (read-only)"
    if kind == "manual":
        return f"{step} " + ("marked done" if r.get("status") == "done" else "not marked done")
    if kind == "aborted":
        return f"run aborted at {step}"
    return ""


def _md(value: Any) -> str:
    """Untrusted text made safe inside a Markdown table cell."""
    text = inert(redact(str(value))).replace("\\x0a", " ")
    return re.sub(r"([\\`*_\[\]|<>])", r"\\\1", text)


def _code(value: Any, limit: int = 400) -> str:
    text = inert(redact(str(value))).replace("`", "'").replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _when(ts: float | None) -> str:
    if ts is None:
        return "the start"
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _clock(ts: Any) -> str:
    if not isinstance(ts, (int, float)):
        return "?"
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%H:%M:%S")
