"""The `amqp-dispatcher` command."""

from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import sys
from collections.abc import Callable
from importlib.metadata import version
from typing import TYPE_CHECKING, NamedTuple

import gevent

from .blocking import MAX_BLOCKING_TIME, watch_event_loop
from .config import LOG_FORMATS, Config, ConfigError, load_config
from .daemon import Dispatcher
from .errors import EXIT_CONFIG, EXIT_FAILURE, DispatcherError, report
from .excerpt import counted
from .limits import DECIMAL, MAX_PORT
from .loader import (
    LoadError,
    StartFailed,
    add_working_directory_to_path,
    create_middleware,
    load_consumer_classes,
    load_middleware_classes,
    load_startup_handler,
    one_line,
)
from .logs import LoggingSetupError, setup_logging, use_format
from .middleware import logcontext
from .references import warnings as exchange_warnings
from .replay import replay
from .substitution import named
from .url import DEFAULT_URL, Target, mask, parse_url

if TYPE_CHECKING:
    from .http import Endpoint
    from .middleware import Middleware

log = logging.getLogger("amqp-dispatcher")
INTERRUPTED = 130  # the shell's status for a command stopped by SIGINT


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["replay"]:
        args = _replay_parser().parse_args(argv[1:])
    else:
        args = _parser().parse_args(argv)
    try:
        setup_logging(os.environ.get("LOGGING_FILE_CONFIG"))
    except LoggingSetupError as exc:
        print(f"amqp-dispatcher: {exc}", file=sys.stderr)
        return exc.exit_status
    if getattr(args, "log_format", None):  # from the first line on, before the YAML is read
        use_format(args.log_format)
    try:
        return args.start(args)
    except KeyboardInterrupt:  # SIGINT before the daemon's own handler is in place
        log.warning("interrupted by SIGINT (KeyboardInterrupt); stopping")
        return INTERRUPTED
    except BaseException as exc:  # a bug, or a consumer's sys.exit(): say so, then stop
        log.exception("stopping on an unexpected error: %s", one_line(exc))
        return EXIT_FAILURE


def _start(args: argparse.Namespace) -> int:
    add_working_directory_to_path()
    if args.validate:
        return validate(args.config)
    watch_event_loop(args.max_blocking_time)
    return run(
        args.config,
        args.shutdown_timeout,
        log_format=args.log_format,
        http_port=args.http_port,
        http_address=args.http_address,
    )


def _start_replay(args: argparse.Namespace) -> int:
    return replay(args.config, args.queue, args.limit)


def validate(path: str) -> int:
    """Check the config and the code it names, without a broker: 0 when valid, warnings or
    not. Each line names the file and says whether it is a warning or an error."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        _print_findings(path, _all_warnings(exc.partial) if exc.partial else [], exc.problems)
        return exc.exit_status
    problems = []
    for load in (load_startup_handler, load_middleware_classes, load_consumer_classes):
        try:
            load(config)
        except LoadError as exc:
            problems.extend(exc.problems)
    _print_findings(path, _all_warnings(config), problems)
    if problems:
        return EXIT_CONFIG
    print(f"{path}: OK ({_summary(config)})")
    return 0


def _all_warnings(config: Config) -> list[str]:
    # Exchange warnings are not logged at a start: there the broker is asked (topology.py).
    return exchange_warnings(config) + _warnings(config)


def _print_findings(path: str, warnings: list[str], errors: list[str]) -> None:
    for kind, lines in (("warning", warnings), ("error", errors)):
        for line in lines:
            print(f"{path}: {kind}: {line}", file=sys.stderr)


def run(
    path: str,
    shutdown_timeout: float,
    *,
    log_format: str | None = None,
    http_port: int | None = None,
    http_address: str | None = None,
) -> int:
    """The daemon; `log_format`, `http_port` and `http_address`, when given, win over the
    config's."""
    # From the very start, before the startup handler and the imports: SIGHUP never kills.
    hangups = gevent.signal_handler(signal.SIGHUP, _on_hangup)
    try:
        return _run(path, shutdown_timeout, log_format, http_port, http_address)
    finally:
        hangups.cancel()


def _run(
    path: str,
    shutdown_timeout: float,
    log_format: str | None,
    http_port: int | None,
    http_address: str | None,
) -> int:
    try:
        start = _prepare(path, log_format, http_port, http_address)
    except DispatcherError as exc:
        return report(exc, path)
    config, classes, targets, middleware, endpoint = start
    try:
        return Dispatcher(config, classes, targets, shutdown_timeout, middleware).run()
    finally:
        if endpoint is not None:
            endpoint.stop()


class _Start(NamedTuple):
    config: Config
    classes: dict[str, type]
    targets: list[Target]
    middleware: list[Middleware]
    endpoint: Endpoint | None


def _prepare(
    path: str, log_format: str | None, http_port: int | None, http_address: str | None
) -> _Start:
    """All that comes before connecting: the config read, the log format set, the URL parsed,
    the startup handler run, middleware and consumer classes imported, the endpoint started."""
    config = load_config(path)
    log_format = log_format or config.log_format
    use_format(log_format)
    url = os.environ.get("RABBITMQ_URL") or DEFAULT_URL
    targets = parse_url(url, os.environ.get("RABBITMQ_HEARTBEAT"))
    log.info("amqp-dispatcher %s: %s, broker %s", version("amqp-dispatcher"), path, mask(url))
    for warning in _warnings(config):
        log.warning("%s: %s", path, warning)
    _run_startup_handler(config)
    middleware = create_middleware(config)
    if log_format == "json":  # the consume context costs the text format nothing
        middleware = logcontext.around(middleware)
    classes = load_consumer_classes(config)
    endpoint = _endpoint(config, http_port, http_address)
    if endpoint is not None:
        middleware += endpoint.middleware  # last: the consume duration is consume's alone
    return _Start(config, classes, targets, middleware, endpoint)


def _endpoint(config: Config, port: int | None, address: str | None) -> Endpoint | None:
    """The HTTP endpoint, listening, if the command line or the config gives a port."""
    port = port or config.http.port
    if port is None:
        return None
    from .http import Endpoint  # only now: without a port, nothing of it is even imported

    endpoint = Endpoint(config.consumers)
    endpoint.start(address or config.http.address, port, config.http.request_timeout)
    return endpoint


def _run_startup_handler(config: Config) -> None:
    handler = load_startup_handler(config)
    if handler is None:
        return
    try:
        handler()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        handler_name = named(config.startup_handler)
        log.exception("startup_handler %s raised", handler_name)
        raise StartFailed(f"startup_handler: {handler_name} raised {exc!r}") from None


def _on_hangup() -> None:
    log.warning("SIGHUP received; reloading is not supported, carrying on")


def _warnings(config: Config) -> list[str]:
    """What is valid but probably not meant, one line each with its YAML path."""
    return [
        f"{spec.path}.prefetch_count: 0 means unlimited: the broker sends every ready message "
        "at once"
        for spec in config.consumers
        if spec.prefetch_count == 0
    ]


def _summary(config: Config) -> str:
    instances = sum(spec.consumer_count for spec in config.consumers)
    return ", ".join(
        [
            counted(len(config.exchanges), "exchange"),
            counted(len(config.queues), "queue"),
            counted(len(config.consumers), "consumer"),
            counted(instances, "consumer instance"),
        ]
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="amqp-dispatcher",
        description="Run consumer classes against RabbitMQ queues, as the YAML config says.",
        epilog="Environment: RABBITMQ_URL, RABBITMQ_HEARTBEAT, LOGGING_FILE_CONFIG. "
        "Subcommand: 'amqp-dispatcher replay --queue NAME' moves the messages archived from a "
        "queue back to it (see 'amqp-dispatcher replay --help').",
    )
    parser.set_defaults(start=_start)
    _add_config(parser)
    _add_run_options(parser)
    _add_observability_options(parser)
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {version('amqp-dispatcher')}"
    )
    return parser


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    """--validate, and the limits of a run's waits."""
    parser.add_argument(
        "--validate",
        action="store_true",
        help="check the config and import the code it names, without a broker, then exit",
    )
    parser.add_argument(
        "--shutdown-timeout",
        type=_seconds(),
        default=30.0,
        metavar="SECONDS",
        help="on SIGTERM/SIGINT, how long running consume calls may take (default: %(default)g)",
    )
    parser.add_argument(
        "--max-blocking-time",
        type=_seconds(MAX_BLOCKING_TIME),
        default=1.0,
        metavar="SECONDS",
        help="warn when a consumer blocks the event loop this long, 0 for never "
        "(default: %(default)g)",
    )


def _add_observability_options(parser: argparse.ArgumentParser) -> None:
    """The log's format and the HTTP endpoint."""
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        help="the format of the log lines on stderr, winning over the YAML's log_format "
        "(default: the YAML's, else text)",
    )
    parser.add_argument(
        "--http-port",
        type=_port,
        metavar="PORT",
        help="serve /metrics, /healthz and /readyz on this port (default: the config's "
        "http.port; without either, no HTTP server)",
    )
    parser.add_argument(
        "--http-address",
        metavar="ADDR",
        help="the address the HTTP endpoint listens on (default: the config's http.address, "
        "127.0.0.1 without it)",
    )


def _replay_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="amqp-dispatcher replay",
        description="Move messages from the archive of a queue back to the queue, each acked in "
        "the archive once the broker has confirmed its copy; print how many.",
        epilog="Environment: RABBITMQ_URL, RABBITMQ_HEARTBEAT, LOGGING_FILE_CONFIG.",
    )
    parser.set_defaults(start=_start_replay)
    _add_config(parser)
    parser.add_argument(
        "--queue", required=True, metavar="NAME", help="the work queue whose archive to replay"
    )
    parser.add_argument(
        "--limit",
        type=_count,
        metavar="N",
        help="move at most N messages (default: all those in the archive at the start)",
    )
    return parser


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", default="config.yml", metavar="PATH", help="YAML config (default: %(default)s)"
    )


def _whole_number(expected: str, maximum: float = math.inf) -> Callable[[str], int]:
    """An argparse type: a whole number from 1 to `maximum`, in ASCII digits."""

    def parse(value: str) -> int:
        if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= maximum:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value!r}")
        return int(value)

    return parse


_count = _whole_number("a whole number >= 1")
_port = _whole_number(f"a port from 1 to {MAX_PORT}", MAX_PORT)


def _seconds(maximum: float = math.inf) -> Callable[[str], float]:
    """An argparse type: a decimal number of seconds from 0 to `maximum`, in ASCII digits
    (float() would also take 'nan', 'inf', '1e999', '1_0' and '٣')."""
    expected = f"from 0 to {maximum:g}" if math.isfinite(maximum) else ">= 0"

    def parse(value: str) -> float:
        if not DECIMAL.fullmatch(value) or float(value) > maximum:
            raise argparse.ArgumentTypeError(f"expected seconds {expected}, got {value!r}")
        return float(value)

    return parse
