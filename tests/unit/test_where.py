"""`--where`: parsing the expressions, matching archived messages, and the usage errors."""

import argparse
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from archived import FAILURE

from amqpdispatcher.archived import Archived
from amqpdispatcher.message_dump import hex_dump
from amqpdispatcher.where import condition, matches

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)


def archived(**headers) -> Archived:
    """A message archived 2 hours before NOW, with FAILURE's headers, `headers` winning."""
    failed = (NOW - timedelta(hours=2)).isoformat()
    merged = {**FAILURE, "x-failed-at": failed, **headers}
    merged = {name: value for name, value in merged.items() if value is not None}
    return Archived.of(1, {"message_id": "m1", "headers": merged}, b"{}")


def holds(expression: str, message: Archived) -> bool:
    return matches([condition(expression)], message, NOW)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("exception_type=RuntimeError", True),
        ("exception_type=*Error", True),
        ("exception_type=runtimeerror", False),  # case matters, as in class names
        ("exception_type=KeyError", False),
        ("exception_message~scripted", True),
        ("exception_message~timeout", False),
        ("retry_count=4", True),
        ("retry_count=3", False),
        ("message_id=m1", True),
        ("message_id=m2", False),
        ("age>90m", True),
        ("age>3h", False),
        ("age<3h", True),
        ("age<1h", False),
        ("age>7200s", False),  # exactly its age: neither older nor younger
        ("failed_before=2026-12-04T11:00:00Z", True),
        ("failed_before=2026-12-04T09:00:00+00:00", False),
        ("failed_after=2026-12-04T09:00:00", True),  # without an offset: UTC
        ("failed_after=2026-12-04T11:00:00Z", False),
    ],
)
def test_each_condition(expression, expected):
    assert holds(expression, archived()) is expected


def test_every_condition_must_hold():
    message = archived()
    yes, no = condition("retry_count=4"), condition("exception_type=KeyError")
    assert matches([yes, yes], message, NOW)
    assert not matches([yes, no], message, NOW)
    assert matches([], message, NOW)


@pytest.mark.parametrize(
    "expression", ["age>1s", "age<1000d", "failed_before=2100-01-01", "failed_after=2000-01-01"]
)
def test_a_message_without_a_readable_failure_time_matches_no_time_condition(expression):
    assert not holds(expression, archived(**{"x-failed-at": None}))
    assert not holds(expression, archived(**{"x-failed-at": "yesterday"}))


def test_a_message_without_failure_headers():
    bare = Archived.of(3, {}, b"abc")
    assert (bare.message_id, bare.exception_type, bare.retry_count, bare.size) == (
        None,
        None,
        None,
        3,
    )
    assert not holds("exception_type=*", bare)
    assert holds("exception_message~", bare)  # the empty text is in every message


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ("RuntimeError", "expected one of exception_type=PATTERN"),
        ("colour=red", "unknown condition 'colour=' in 'colour=red'"),
        ("exception_type~Key", "unknown condition 'exception_type~'"),
        ("retry_count=-1", "expected a whole number >= 0 in 'retry_count=-1'"),
        ("age>2w", "expected a duration such as 90s, 15m, 2h or 7d in 'age>2w'"),
        ("age>1.5h", "expected a duration such as 90s"),
        ("age>\u0663d", "expected a duration such as 90s"),
        ("age<9999999999d", "expected a duration such as 90s"),
        ("failed_before=soon", "expected an ISO 8601 time such as 2026-11-24T18:50:00Z"),
    ],
)
def test_bad_expressions(expression, error):
    with pytest.raises(argparse.ArgumentTypeError, match="^" + error.replace("*", r"\*")):
        condition(expression)


@pytest.mark.parametrize("command", [("replay",), ("archive", "list"), ("archive", "purge")])
def test_a_bad_expression_is_a_usage_error_naming_it(command):
    argv = [sys.executable, "-m", "amqpdispatcher", *command, "--queue", "q", "--where", "age>2w"]
    result = subprocess.run(argv, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"amqp-dispatcher {' '.join(command)}: error: argument --where: expected a duration "
        "such as 90s, 15m, 2h or 7d in 'age>2w'"
    )


def test_hex_dump():
    assert hex_dump(b"") == []
    (line,) = hex_dump(b'{"id": 2}\x00')
    assert line == "00000000  7b 22 69 64 22 3a 20 32 7d 00" + " " * 18 + '  |{"id": 2}.|'
    first, second = hex_dump(bytes(range(20)))
    assert first.startswith("00000000  00 01 02 03") and first.endswith("|" + "." * 16 + "|")
    assert second.startswith("00000010  10 11 12 13 ")
