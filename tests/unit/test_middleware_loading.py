"""Middleware named in the YAML: --validate accepts what loads; a middleware that cannot be
loaded or created stops the start. So does `tracing: true` without the otel extra, which
nothing imports with tracing off."""

import pytest
from cli_output import assert_clean_failure
from daemons import TESTS, consumer_config, with_middleware

from amqpdispatcher.errors import EXIT_FAILURE
from amqpdispatcher.loader import TRACING

DEAD_URL = "amqp://guest:guest@127.0.0.1:1/"
NO_OTEL = f"{TESTS / 'no_otel'}:{TESTS}"  # as if the otel extra were not installed


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


@pytest.mark.parametrize("mode", [("--validate",), ()])
def test_tracing_without_the_otel_extra_stops_the_start(daemon_factory, mode):
    daemon = daemon_factory(
        {"tracing": True, **consumer_config("jobs")}, RABBITMQ_URL=DEAD_URL, PYTHONPATH=NO_OTEL
    )
    marked = "error: " if mode else ""
    assert_clean_failure(
        daemon.run(*mode),
        f"{daemon.config_path}: {marked}tracing: cannot import "
        "'amqpdispatcher.middleware.tracing': ImportError: OpenTelemetry is not installed: "
        "pip install 'amqp-dispatcher[otel]'",
    )


def test_without_tracing_nothing_imports_opentelemetry(daemon_factory):
    daemon = daemon_factory(consumer_config("jobs"), RABBITMQ_URL=DEAD_URL, PYTHONPATH=NO_OTEL)
    result = daemon.run("--validate")
    assert result.returncode == 0, result.stdout


def test_tracing_listed_as_middleware_too_is_an_error(daemon_factory):
    config = with_middleware({"tracing": True, **consumer_config("jobs")}, TRACING)
    daemon = daemon_factory(config, RABBITMQ_URL=DEAD_URL)
    assert_clean_failure(
        daemon.run("--validate"),
        f"{daemon.config_path}: error: middleware[0]: '{TRACING}' traces, as `tracing: true` "
        "does: keep one",
    )


def test_validate_accepts_tracing(daemon_factory):
    for config in ({"tracing": True}, with_middleware({}, TRACING)):
        result = daemon_factory({**config, **consumer_config("jobs")}).run("--validate")
        assert result.returncode == 0, result.stdout
