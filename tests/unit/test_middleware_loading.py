"""Middleware named in the YAML: --validate accepts what loads; a middleware that cannot be
loaded or created stops the start."""

import pytest
from cli_output import assert_clean_failure
from daemons import consumer_config, with_middleware

from amqpdispatcher.errors import EXIT_FAILURE

DEAD_URL = "amqp://guest:guest@127.0.0.1:1/"


@pytest.mark.parametrize(
    ("middleware", "problem"),
    [
        ("nowhere:Recorder", "middleware[0]: cannot import 'nowhere'"),
        ("middlewares:Missing", "middleware[0]: 'middlewares' has no attribute 'Missing'"),
        (
            "middlewares:NotMiddleware",
            "middleware[0]: 'middlewares:NotMiddleware' is not a subclass of "
            "amqpdispatcher.Middleware",
        ),
    ],
)
@pytest.mark.parametrize("mode", [("--validate",), ()])
def test_middleware_that_cannot_be_loaded_stops_the_start(
    daemon_factory, middleware, problem, mode
):
    daemon = daemon_factory(
        with_middleware(consumer_config("jobs"), middleware), RABBITMQ_URL=DEAD_URL
    )
    marked = "error: " if mode else ""  # --validate marks it, the log's level says it
    assert_clean_failure(daemon.run(*mode), f"{daemon.config_path}: {marked}{problem}")


def test_validate_accepts_middleware(daemon_factory):
    config = with_middleware(consumer_config("jobs"), "middlewares:Recording")
    result = daemon_factory(config, RABBITMQ_URL=DEAD_URL).run("--validate")
    assert result.returncode == 0, result.stdout


def test_middleware_that_cannot_be_created_stops_the_start(daemon_factory):
    daemon = daemon_factory(
        with_middleware(consumer_config("jobs"), "middlewares:FailsToStart"),
        RABBITMQ_URL=DEAD_URL,
    )
    assert_clean_failure(
        daemon.run(),
        f"{daemon.config_path}: middleware[0]: cannot create middlewares:FailsToStart: "
        "ConnectionError('metrics endpoint down')",
        status=EXIT_FAILURE,
    )
