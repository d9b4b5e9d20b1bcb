"""`amqp-dispatcher replay`: its usage errors, its place in the help, the headers it removes."""

import subprocess
import sys

import pytest
from archived import FAILURE, ORIGIN
from cli_output import assert_usage_error

from amqpdispatcher.replay import without_failure

# Kept: the replayed attempt stays in the message's trace, linked to the last failed attempt.
TRACE = {"traceparent": "00-a-b-01", "x-previous-traceparent": "00-a-c-01"}


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((), "the following arguments are required: --queue"),
        (("--queue", "q", "--limit", "0"), "argument --limit: expected a whole number >= 1"),
        (("--queue", "q", "--limit", "\u0663"), "argument --limit: expected a whole number >= 1"),
    ],
)
def test_usage_errors(args, error):
    assert_usage_error("replay", args, error)


def test_the_help_names_the_subcommand():
    command = [sys.executable, "-m", "amqpdispatcher", "--help"]
    usage = subprocess.run(command, capture_output=True, text=True).stdout
    assert "amqp-dispatcher replay" in usage


def test_failure_headers_are_removed_and_the_rest_kept():
    properties = {"message_id": "m1", "headers": {**FAILURE, **ORIGIN, **TRACE}}
    assert without_failure(properties) == {"message_id": "m1", "headers": {**ORIGIN, **TRACE}}
    assert without_failure({"message_id": "m1", "headers": FAILURE}) == {"message_id": "m1"}
    assert without_failure({"priority": 3}) == {"priority": 3}
