"""Cutting text for headers and log lines."""

import pytest

from amqpdispatcher.excerpt import clip_utf8, first_line


@pytest.mark.parametrize(
    ("text", "limit", "cut"),
    [
        ("short", 10, "short"),
        ("abcdefghijkl", 10, "abcdefg..."),
        ("ééééé", 10, "ééééé"),  # 10 bytes exactly
        ("éééééé", 10, "ééé..."),  # never half a character: 3 of 3.5 fit before the mark
        ("a\ud800b", 10, "a?b"),  # a lone surrogate, as json.loads can make
    ],
)
def test_clip_utf8(text, limit, cut):
    assert clip_utf8(text, limit) == cut
    assert len(cut.encode()) <= limit


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("one line", "one line"),
        ("first\nsecond", "first..."),
        ("x" * 100, "x" * 57 + "..."),
    ],
)
def test_first_line(text, line):
    assert first_line(text) == line
