"""`amqp-dispatcher replay`: its usage errors and its place in the help."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((), "the following arguments are required: --queue"),
        (("--queue", "q", "--limit", "0"), "argument --limit: expected a whole number >= 1"),
        (("--queue", "q", "--limit", "\u0663"), "argument --limit: expected a whole number >= 1"),
    ],
)
def test_usage_errors(args, error):
    command = [sys.executable, "-m", "amqpdispatcher", "replay", *args]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 2
    assert f"amqp-dispatcher replay: error: {error}" in result.stderr


def test_the_help_names_the_subcommand():
    command = [sys.executable, "-m", "amqpdispatcher", "--help"]
    usage = subprocess.run(command, capture_output=True, text=True).stdout
    assert "amqp-dispatcher replay" in usage
