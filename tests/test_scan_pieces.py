"""A large file scanned in pieces by forked processes says what one pass says: the same
lines, numbered the same, in file order, whatever line a piece boundary falls in."""

from __future__ import annotations

import io
import random
import sys
from itertools import pairwise
from pathlib import Path

import pytest

from tests.corpus import ordinary_lines, symptom_samples
from warroom import scan_pieces
from warroom.playbook.catalog import load_catalog
from warroom.playbook.matcher import Matcher
from warroom.scan import scan_stream

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="pieces are forked on Linux only")


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_catalog())


def log(path: Path, lines: int, trailing_newline: bool) -> bytes:
    rng = random.Random(lines)
    symptoms = [s.line for s in symptom_samples()]
    ordinary = [line for _, line in ordinary_lines()]
    rows = [rng.choice(symptoms if rng.random() < 0.2 else ordinary) for _ in range(lines)]
    data = ("\n".join(rows) + ("\n" if trailing_newline else "")).encode("utf-8")
    path.write_bytes(data)
    return data


@pytest.mark.parametrize("trailing_newline", [True, False])
@pytest.mark.parametrize("count", [2, 3, 7])
def test_pieces_say_what_one_pass_says(tmp_path: Path, monkeypatch, matcher: Matcher,
                                       count: int, trailing_newline: bool) -> None:
    path = tmp_path / "big.log"
    data = log(path, 3000, trailing_newline)
    monkeypatch.setattr(scan_pieces, "MIN_PIECE", len(data) // (count * 2))
    ranges = scan_pieces.pieces(str(path), count)
    assert len(ranges) == count
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    for (_, end), (start, _) in pairwise(ranges):
        assert end == start and data[start - 1:start] == b"\n"  # whole lines each
    expected = list(scan_stream(matcher, io.BytesIO(data)))
    assert len(expected) > 300
    assert list(scan_pieces.scan_pieces(matcher, str(path), ranges)) == expected


def test_small_files_and_streams_are_one_piece(tmp_path: Path) -> None:
    path = tmp_path / "small.log"
    path.write_bytes(b"Task timed out after 3.00 seconds\n" * 100)
    assert scan_pieces.pieces(str(path), 8) == []
    assert scan_pieces.pieces("/dev/stdin", 8) == []
    assert scan_pieces.pieces(str(tmp_path / "missing.log"), 8) == []


def test_one_long_line_is_one_piece(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "one.log"
    path.write_bytes(b"x" * 4096)
    monkeypatch.setattr(scan_pieces, "MIN_PIECE", 512)
    assert scan_pieces.pieces(str(path), 4) == []
