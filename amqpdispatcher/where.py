"""`--where EXPR`: which archived messages a command acts on, from the retry policy's headers.
Parsed when the command line is; every condition given must hold."""

from __future__ import annotations

import argparse
import fnmatch
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .archived import Archived, parse_time

_EXPRESSION = re.compile(r"([a-z_]+)(=|~|<|>)(.*)", re.DOTALL)
_DURATION = re.compile(r"([0-9]+)(s|m|h|d)")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
SYNTAX = (
    "exception_type=PATTERN, exception_message~TEXT, retry_count=N, message_id=ID, "
    "age>DURATION, age<DURATION (90s, 15m, 2h, 7d), failed_before=TIME, failed_after=TIME "
    "(ISO 8601)"
)


@dataclass(frozen=True)
class Condition:
    text: str  # as given
    test: Callable[[Archived, datetime], bool]  # the message, and now

    def holds(self, message: Archived, now: datetime) -> bool:
        return self.test(message, now)


def condition(text: str) -> Condition:
    """An argparse type: one --where expression."""
    match = _EXPRESSION.fullmatch(text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected one of {SYNTAX}; got {text!r}")
    name, operator, value = match.groups()
    make = _CONDITIONS.get((name, operator))
    if make is None:
        raise argparse.ArgumentTypeError(f"unknown condition {name + operator!r} in {text!r}")
    return Condition(text, make(value, text))


def matches(conditions: Sequence[Condition], message: Archived, now: datetime) -> bool:
    return all(each.holds(message, now) for each in conditions)


def _exception_type(pattern: str, _text: str) -> Callable[[Archived, datetime], bool]:
    return lambda message, _now: (
        message.exception_type is not None and fnmatch.fnmatchcase(message.exception_type, pattern)
    )


def _exception_message(part: str, _text: str) -> Callable[[Archived, datetime], bool]:
    return lambda message, _now: part in (message.exception_message or "")


def _retry_count(value: str, text: str) -> Callable[[Archived, datetime], bool]:
    if not (value.isascii() and value.isdigit()):
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0 in {text!r}")
    return lambda message, _now: message.retry_count == int(value)


def _message_id(value: str, _text: str) -> Callable[[Archived, datetime], bool]:
    return lambda message, _now: message.message_id == value


def _older(value: str, text: str) -> Callable[[Archived, datetime], bool]:
    age = _duration(value, text)
    return lambda message, now: message.failed is not None and now - message.failed > age


def _younger(value: str, text: str) -> Callable[[Archived, datetime], bool]:
    age = _duration(value, text)
    return lambda message, now: message.failed is not None and now - message.failed < age


def _before(value: str, text: str) -> Callable[[Archived, datetime], bool]:
    moment = _time(value, text)
    return lambda message, _now: message.failed is not None and message.failed < moment


def _after(value: str, text: str) -> Callable[[Archived, datetime], bool]:
    moment = _time(value, text)
    return lambda message, _now: message.failed is not None and message.failed > moment


def _duration(value: str, text: str) -> timedelta:
    match = _DURATION.fullmatch(value)
    try:
        if match:
            return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    except OverflowError:  # beyond timedelta's 999,999,999 days
        pass
    raise argparse.ArgumentTypeError(f"expected a duration such as 90s, 15m, 2h or 7d in {text!r}")


def _time(value: str, text: str) -> datetime:
    moment = parse_time(value) if value.isascii() else None
    if moment is None:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time such as 2026-11-24T18:50:00Z in {text!r}"
        )
    return moment


_CONDITIONS = {
    ("exception_type", "="): _exception_type,
    ("exception_message", "~"): _exception_message,
    ("retry_count", "="): _retry_count,
    ("message_id", "="): _message_id,
    ("age", ">"): _older,
    ("age", "<"): _younger,
    ("failed_before", "="): _before,
    ("failed_after", "="): _after,
}


def add_where(parser: argparse.ArgumentParser, verb: str) -> None:
    parser.add_argument(
        "--where",
        type=condition,
        action="append",
        default=[],
        metavar="EXPR",
        help=f"{verb} only the messages for which EXPR holds; repeatable, all must hold: "
        f"{SYNTAX}. A message without x-failed-at matches no age or time condition",
    )
