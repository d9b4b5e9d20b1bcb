"""Environment references in the config's string values: `${NAME}`, `${NAME:-default}`, and
`$${` for a literal `${`. This module reads one string; config.py walks the YAML with it and
collects the problems."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from .excerpt import clip, excerpt

_TOKEN = re.compile(r"\$\$\{|\$\{")  # the escape first: in '$${' the '${' is not a reference
_REFERENCE = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?")
_ESCAPE_HINT = " (write $${ for a literal ${)"


class Substituted(str):
    """A string value whose YAML text had references or escapes: `source` is that text, and
    `single` says whether it was exactly one reference and nothing else. Its value may be a
    secret: messages quote it through shown(). A copy (copy, deepcopy, pickle) is a plain str,
    so a consumer's options hold plain strings."""

    source: str
    single: bool

    def __new__(cls, value: str, source: str, single: bool) -> Substituted:
        text = super().__new__(cls, value)
        text.source = source
        text.single = single
        return text

    def __reduce__(self) -> tuple[type[str], tuple[str]]:
        return str, (str(self),)


def suffixed(text: str, suffix: str) -> str:
    """`text` + `suffix`, still marked as coming from the environment if `text` was."""
    if isinstance(text, Substituted):
        return Substituted(text + suffix, text.source + suffix, single=False)
    return text + suffix


def hidden(text: str, values: Iterable[object]) -> str:
    """`text`, say a broker's reply, with each substituted value among `values` named by the
    text it came from wherever it appears."""
    for value in values:
        if isinstance(value, Substituted) and value:
            text = text.replace(value, f"<the value of {clip(value.source)}>")
    return text


def named(text: str) -> str:
    """`text` unquoted, as messages name import paths; a substituted one as shown() says."""
    return shown(text) if isinstance(text, Substituted) else text


def shown(value: object) -> str:
    """`value` for an error or warning: excerpt(value), but never the value of an environment
    reference: that is named by the text it came from instead."""
    if isinstance(value, Substituted):
        return f"the value of {clip(value.source)} (not shown)"
    return excerpt(value)


class SubstitutionError(ValueError):
    """Every bad reference in one string, each a one-line problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def expand(text: str, environ: Mapping[str, str]) -> str:
    """`text` with its references replaced: a Substituted if it had references or escapes,
    `text` itself otherwise."""
    if "${" not in text:
        return text
    parts, problems, position = [], [], 0
    for token in _TOKEN.finditer(text):
        if token.start() < position:  # inside a reference already read
            continue
        parts.append(text[position : token.start()])
        if token.group() == "$${":
            parts.append("${")
            position = token.end()
            continue
        end = text.find("}", token.end())
        if end == -1:
            problems.append(f"{excerpt(text[token.start() :])} has no closing '}}'{_ESCAPE_HINT}")
            break
        value, problem = _resolve(text[token.start() : end + 1], environ)
        parts.append(value)
        if problem:
            problems.append(problem)
        position = end + 1
    if problems:
        raise SubstitutionError(problems)
    parts.append(text[position:])
    single = text.startswith("${") and text.find("}") == len(text) - 1
    return Substituted("".join(parts), text, single)


def _resolve(reference: str, environ: Mapping[str, str]) -> tuple[str, str | None]:
    """The value of one reference, '${...}', and the problem with it if any."""
    match = _REFERENCE.fullmatch(reference[2:-1])
    if match is None or "${" in (match["default"] or ""):
        return "", (
            f"bad environment reference {excerpt(reference)}: expected ${{NAME}} or "
            f"${{NAME:-default}}{_ESCAPE_HINT}"
        )
    name, default = match["name"], match["default"]
    value = environ.get(name)
    if default is not None:
        return (value or default), None
    if value is None:
        return "", (
            f"environment variable {name} is not set (write ${{{name}:-...}} to give a default)"
        )
    return value, None
