"""A large file scanned in pieces, one process per core: most of a scan's time is the
matcher's, and a bastion's other cores sit idle while an engineer waits on it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from itertools import pairwise
from typing import BinaryIO

from warroom.playbook.hsprefilter import HyperscanPrefilter
from warroom.playbook.matcher import Match, Matcher
from warroom.scan import scan_stream

MIN_PIECE = 16 << 20  # bytes: a smaller piece costs more in a process than it saves

_matcher: Matcher | None = None  # the parent's, inherited by the forked workers


def cores() -> int:
    """Cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def pieces(path: str, count: int) -> list[tuple[int, int]]:
    """(start, end) byte ranges of a regular file, each made of whole lines; [] when the
    file is too small to be worth more than one."""
    if sys.platform != "linux" or not os.path.isfile(path):  # fork is Linux's safe default
        return []
    size = os.path.getsize(path)
    count = min(count, size // MIN_PIECE)
    if count < 2:
        return []
    bounds = [0]
    with open(path, "rb") as f:
        for k in range(1, count):
            f.seek(max(bounds[-1], size * k // count))
            f.readline()  # to the next line's start
            bounds.append(f.tell())
    bounds.append(size)
    ranges = [(a, b) for a, b in pairwise(bounds) if a < b]
    return ranges if len(ranges) > 1 else []  # one long line is one piece


def scan_pieces(matcher: Matcher, path: str, ranges: list[tuple[int, int]]
                ) -> Iterator[tuple[int, str, list[Match]]]:
    """`scan_stream` over the file, its pieces scanned at once by forked processes; the
    lines come in file order, numbered from 1."""
    global _matcher
    _matcher = matcher
    prefilter = matcher.prefilter
    if isinstance(prefilter, HyperscanPrefilter):  # tuned once here rather than once in each worker
        with open(path, "rb") as f:
            prefilter.prepare(f.read(prefilter.SAMPLE))
    import multiprocessing  # here: a scan of a few lines never forks, and it costs start-up

    jobs = [(path, start, end) for start, end in ranges]
    with multiprocessing.get_context("fork").Pool(len(jobs)) as pool:
        base = 0
        for lines, found in pool.imap(_scan_piece, jobs):
            for lineno, text, matches in found:
                yield base + lineno, text, matches
            base += lines


def _scan_piece(job: tuple[str, int, int]) -> tuple[int, list[tuple[int, str, list[Match]]]]:
    """In a worker: (lines in the piece, its matching lines numbered within it)."""
    path, start, end = job
    assert _matcher is not None
    counted: list[int] = []
    with open(path, "rb") as f:
        f.seek(start)
        found = list(scan_stream(_matcher, _Piece(f, end - start), counted))
    return counted[0], found


class _Piece:
    """A file read from its current offset for `left` bytes."""

    def __init__(self, stream: BinaryIO, left: int) -> None:
        self._stream = stream
        self._left = left

    def read(self, size: int = -1) -> bytes:
        size = self._left if size < 0 else min(size, self._left)
        data = self._stream.read(size) if size else b""
        self._left -= len(data)
        return data
