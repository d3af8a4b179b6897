"""One `--since` grammar for every command."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from warroom.errors import UserError
from warroom.timespec import duration_seconds, parse_since, since_ms

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc).timestamp()


@pytest.mark.parametrize("text, seconds", [
    ("90s", 90), ("15m", 900), ("2h30m", 9000), ("1d", 86400), ("1w", 604800), ("1.5h", 5400),
    (" 10M ", 600), ("1h 30m", 5400),
])
def test_durations(text: str, seconds: float) -> None:
    assert duration_seconds(text) == seconds
    assert parse_since(text, NOW) == NOW - seconds


def test_iso_times_with_and_without_zone() -> None:
    assert parse_since("2026-05-01T10:00:00Z", NOW) == NOW - 7200
    assert parse_since("2026-05-01T12:00+02:00", NOW) == NOW - 7200
    local = datetime(2026, 5, 1, 9, 30).astimezone().timestamp()  # no zone: the user's clock
    assert parse_since("2026-05-01T09:30", NOW) == local
    assert since_ms("2026-05-01T10:00:00Z", int(NOW * 1000)) == int((NOW - 7200) * 1000)


@pytest.mark.parametrize("text", ["", "10", "ten minutes", "5x", "-5m", "2026-13-01"])
def test_bad_values_say_how_to_write_them(text: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_since(text, NOW, option="--since")
    message = str(caught.value)
    assert message.startswith("--since") and "90s" in message and "\n" not in message


def test_a_future_time_is_refused() -> None:
    with pytest.raises(UserError, match="future"):
        parse_since("2027-01-01", NOW)
