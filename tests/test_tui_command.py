"""`warroom` / `warroom console`: errors before the UI starts are one line, exit 2."""

from __future__ import annotations

import pytest

from warroom.cli import main


def test_unreachable_endpoint_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--endpoint-url", "http://127.0.0.1:9", "--region", "us-east-1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warroom: ") and "127.0.0.1:9" in err[0]


def test_bad_since_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["console", "--since", "soon"]) == 2
    assert "--since" in capsys.readouterr().err
