"""A pattern's anchors, read from its source: what the matcher and the prefilter must treat
with care once a JSON object's strings are read as lines of their own."""

from __future__ import annotations

import re

import pytest

from warroom.playbook.anchors import anchored, at_text_end, without_line_starts


@pytest.mark.parametrize(("pattern", "is_anchored", "at_end", "loosened"), [
    ("^foo", True, False, "foo"),
    ("a|^b", True, False, "a|b"),
    (r"(?:^|\s)x", True, False, r"(?:|\s)x"),
    (r"\\^x", True, False, r"\\x"),  # an escaped backslash, then the anchor
    ("[^a]foo", False, False, "[^a]foo"),  # a negated class
    (r"[\]^]x", False, False, r"[\]^]x"),  # a caret inside a class
    (r"\^x", False, False, r"\^x"),  # an escaped caret
    ("x$", True, True, "x$"),
    (r"\Ax", True, True, r"\Ax"),
    (r"\$5", False, False, r"\$5"),
])
def test_anchors_are_found_outside_classes_and_escapes(pattern: str, is_anchored: bool, at_end: bool,
                                                       loosened: str) -> None:
    assert anchored(pattern) is is_anchored
    assert at_text_end(pattern) is at_end
    assert without_line_starts(pattern) == loosened


@pytest.mark.parametrize("pattern", [r"^\s*(?:Caused by: )?x\b", r"(?m)^a|b", r"^(?P<n>\d+) [^\n]*?done"])
def test_a_pattern_without_its_line_starts_matches_wherever_it_did(pattern: str) -> None:
    loose = re.compile(without_line_starts(pattern))
    for text in ("x done", "Caused by: x", "12 done", "b", "a", '"x" 3 done'):
        if re.search(pattern, text):
            assert loose.search(text)
