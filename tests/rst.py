"""Reading the code blocks of the docs' reStructuredText pages, for the tests that run them, and
matching the output a page shows."""

from __future__ import annotations

import re


def indented(lines: list[str]) -> list[str]:
    """The block indented by four spaces that `lines` start with, after the blank line that
    follows its directive or paragraph, unindented, without trailing blank lines."""
    body = []
    for line in lines[1:]:  # the blank line
        if line and not line.startswith("    "):
            break
        body.append(line[4:])
    while body and not body[-1]:
        body.pop()
    return body


def shows(output: str, expected: list[str]) -> bool:
    """Whether every line shown appears in `output`, spaces aside; "..." stands for anything."""
    actual = [" ".join(line.split()) for line in output.splitlines()]
    for shown in expected:
        pattern = ".*".join(re.escape(" ".join(part.split())) for part in shown.split("..."))
        if not any(re.fullmatch(pattern, line) for line in actual):
            return False
    return True
