"""Reading the code blocks of the docs' reStructuredText pages, for the tests that run them."""

from __future__ import annotations


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
