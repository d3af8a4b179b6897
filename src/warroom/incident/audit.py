"""The audit trail: one JSON object per line, each written and fsynced before going on.

Kinds of record: "session" (a run starts: who, where, which playbook), "intent" (a mutating
step is about to run), "outcome" (what it did, and its verify), "diagnose", "declined",
"refused", "manual" and "finding" (a symptom seen, for the report's timeline). An intent
with no outcome after it means warroom stopped while the step ran.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from warroom.errors import UserError
from warroom.incident.records import Finding
from warroom.redact import redact_value


def default_path() -> Path:
    from platformdirs import user_state_dir

    return Path(user_state_dir("warroom")) / "audit.jsonl"


def resolve_path(path: str | os.PathLike[str] | None) -> Path:
    """`--audit-log PATH` when given, else the XDG state dir's audit.jsonl."""
    return Path(path).expanduser() if path else default_path()


class AuditLog:
    """Appends records durably; safe to share between runs (each line is one write)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = resolve_path(path)

    def append(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Write one record (secrets redacted), flushed to disk before returning it."""
        now = time.time()
        record = {"time": _iso(now), "ts": round(now, 3), "kind": kind, **redact_value(fields)}
        line = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise UserError(f"cannot write the audit log {self.path}: {exc.strerror or exc}") from exc
        try:
            os.write(fd, line)
            os.fsync(fd)  # an intent must survive a crash of what follows it
        finally:
            os.close(fd)
        return record

    def finding(self, finding: Finding, **context: Any) -> dict[str, Any]:
        """Record a finding seen (console or scan), so the report's timeline has it."""
        data = finding.to_json()
        # The finding's own `kind` (log, metric, probe...) and `time` (ms) would clash.
        data["source"] = data.pop("kind")
        data["seen_ms"] = data.pop("time")
        return self.append("finding", **data, **context)


def read(path: str | os.PathLike[str] | None = None, since: float | None = None) -> Iterator[dict[str, Any]]:
    """Records in file order, from `since` (epoch seconds) on; broken lines are skipped."""
    target = resolve_path(path)
    try:
        handle = target.open(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return
    except OSError as exc:
        raise UserError(f"cannot read the audit log {target}: {exc.strerror or exc}") from exc
    with handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash
            if not isinstance(record, dict):
                continue
            ts = record.get("ts")
            if since is not None and (not isinstance(ts, (int, float)) or ts < since):
                continue
            yield record


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
