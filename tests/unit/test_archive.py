"""`amqp-dispatcher archive`: its usage errors, and which brokers count the reads of a quorum
archive towards its delivery limit."""

import subprocess
import sys

import pytest

from amqpdispatcher.archive import counts_returns


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((), "the following arguments are required: ACTION"),
        (("list",), "the following arguments are required: --queue"),
        (("list", "--queue", "q", "--limit", "0"), "argument --limit: expected a whole number"),
        (("show", "--queue", "q"), "one of the arguments --position --message-id is required"),
        (
            ("show", "--queue", "q", "--position", "1", "--message-id", "m"),
            "argument --message-id: not allowed with argument --position",
        ),
        (("erase", "--queue", "q"), "argument ACTION: invalid choice: 'erase'"),
    ],
)
def test_usage_errors(args, error):
    command = [sys.executable, "-m", "amqpdispatcher", "archive", *args]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 2
    assert error in result.stderr.splitlines()[-1]


@pytest.mark.parametrize(
    ("version", "counted"),
    [
        ("3.10.8", False),
        ("3.13.7", False),
        ("4.0.0", True),
        ("4.2.5", True),
        ("4.3.0", False),
        ("5.0.1", False),
        ("unknown", False),
        ("4", False),
    ],
)
def test_which_versions_count_every_return(version, counted):
    assert counts_returns(version) is counted
