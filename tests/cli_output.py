"""What the command line prints, checked both by the tests that need no broker
(tests/unit/test_cli.py) and by those that do (tests/test_cli.py)."""

import subprocess
import sys

from amqpdispatcher.errors import EXIT_CONFIG

UNLIMITED = "consumers[0].prefetch_count: 0 means unlimited: the broker sends every ready message"


def assert_clean_failure(result, *lines: str, status: int = EXIT_CONFIG) -> None:
    assert result.returncode == status, result.stdout
    for line in lines:
        assert line in result.stdout
    assert "Traceback" not in result.stdout


def assert_usage_error(subcommand: str, args: tuple[str, ...], error: str) -> None:
    """`amqp-dispatcher SUBCOMMAND ARGS...` exits 2 with argparse's line saying `error`."""
    command = [sys.executable, "-m", "amqpdispatcher", subcommand, *args]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 2
    assert f"amqp-dispatcher {subcommand}: error: {error}" in result.stderr
