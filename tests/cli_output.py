"""What the command line prints, checked both by the tests that need no broker
(tests/unit/test_cli.py) and by those that do (tests/test_cli.py)."""

from amqpdispatcher.errors import EXIT_CONFIG

UNLIMITED = "consumers[0].prefetch_count: 0 means unlimited: the broker sends every ready message"


def assert_clean_failure(result, *lines: str, status: int = EXIT_CONFIG) -> None:
    assert result.returncode == status, result.stdout
    for line in lines:
        assert line in result.stdout
    assert "Traceback" not in result.stdout
