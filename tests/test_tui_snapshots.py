"""Snapshots of the main screen on the fixed sample incident (pytest-textual-snapshot).

Update after an intended change with `pytest tests/test_tui_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tests.tui_helpers import sample_app


async def _settle(pilot: Pilot[Any]) -> None:
    pilot.app.pump()  # type: ignore[attr-defined]
    await pilot.pause()
    pilot.app.main.tick()  # type: ignore[attr-defined]
    await pilot.pause()


async def _open_finding(pilot: Pilot[Any]) -> None:
    await _settle(pilot)
    await pilot.press("n", "N")  # the newest symptom line, then the one before it
    await pilot.pause()


def test_main_screen_160x48(snap_compare: Any) -> None:
    assert snap_compare(sample_app(), terminal_size=(160, 48), run_before=_open_finding)


def test_main_screen_80x24(snap_compare: Any) -> None:
    assert snap_compare(sample_app(), terminal_size=(80, 24), run_before=_open_finding)


def test_main_screen_80x24_no_color(snap_compare: Any, monkeypatch: Any) -> None:
    """NO_COLOR: symptom spans in the text colour, bold and underlined (the terminal greys the rest)."""
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(sample_app(), terminal_size=(80, 24), run_before=_open_finding)


def test_help_screen_80x24(snap_compare: Any) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("question_mark")

    assert snap_compare(sample_app(), terminal_size=(80, 24), run_before=run)
