"""The `amqp-dispatcher` command."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from importlib.metadata import version

from .blocking import watch_event_loop
from .config import Config, ConfigError, load_config
from .connection import AMQPError
from .daemon import Dispatcher
from .loader import (
    LoadError,
    add_working_directory_to_path,
    load_consumer_classes,
    load_startup_handler,
)
from .logs import LoggingSetupError, setup_logging
from .pool import PoolError
from .topology import TopologyError
from .url import DEFAULT_URL, URLError, mask, parse_url

log = logging.getLogger("amqp-dispatcher")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        setup_logging(os.environ.get("LOGGING_FILE_CONFIG"))
    except LoggingSetupError as exc:
        print(f"amqp-dispatcher: {exc}", file=sys.stderr)
        return 1
    add_working_directory_to_path()
    if args.validate:
        return validate(args.config)
    watch_event_loop(args.max_blocking_time)
    return run(args.config, args.shutdown_timeout)


def validate(path: str) -> int:
    """Check the config and the code it names, without a broker: 0 when valid."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    problems = []
    for load in (load_startup_handler, load_consumer_classes):
        try:
            load(config)
        except LoadError as exc:
            problems.extend(exc.problems)
    for problem in problems:
        print(f"{path}: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"{path}: OK ({_summary(config)})")
    return 0


def run(path: str, shutdown_timeout: float) -> int:
    try:
        config = load_config(path)
        url = os.environ.get("RABBITMQ_URL") or DEFAULT_URL
        targets = parse_url(url, os.environ.get("RABBITMQ_HEARTBEAT"))
        log.info("amqp-dispatcher %s: %s, broker %s", version("amqp-dispatcher"), path, mask(url))
        _run_startup_handler(config)
        classes = load_consumer_classes(config)
        Dispatcher(config, classes, targets, shutdown_timeout).run()
    except ConfigError as exc:
        _log_lines(str(exc))
    except (LoadError, TopologyError, PoolError) as exc:
        _log_lines(str(exc), prefix=f"{path}: ")
    except (URLError, AMQPError) as exc:
        _log_lines(str(exc))
    else:
        return 0
    return 1


def _run_startup_handler(config: Config) -> None:
    handler = load_startup_handler(config)
    if handler is None:
        return
    try:
        handler()
    except Exception as exc:
        log.exception("startup_handler %s raised", config.startup_handler)
        raise LoadError([f"startup_handler: {config.startup_handler} raised {exc!r}"]) from None


def _log_lines(text: str, prefix: str = "") -> None:
    for line in text.splitlines():
        log.error("%s%s", prefix, line)


def _summary(config: Config) -> str:
    instances = sum(spec.consumer_count for spec in config.consumers)
    return (
        f"{len(config.exchanges)} exchanges, {len(config.queues)} queues, "
        f"{len(config.consumers)} consumers, {instances} consumer instances"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="amqp-dispatcher",
        description="Run consumer classes against RabbitMQ queues, as the YAML config says.",
        epilog="Environment: RABBITMQ_URL, RABBITMQ_HEARTBEAT, LOGGING_FILE_CONFIG.",
    )
    parser.add_argument(
        "--config", default="config.yml", metavar="PATH", help="YAML config (default: %(default)s)"
    )
    parser.add_argument(
        "--validate",
        action="store_true",
        help="check the config and import the code it names, without a broker, then exit",
    )
    parser.add_argument(
        "--shutdown-timeout",
        type=_seconds,
        default=30.0,
        metavar="SECONDS",
        help="on SIGTERM/SIGINT, how long running consume calls may take (default: %(default)g)",
    )
    parser.add_argument(
        "--max-blocking-time",
        type=_seconds,
        default=1.0,
        metavar="SECONDS",
        help="warn when a consumer blocks the event loop this long (default: %(default)g)",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {version('amqp-dispatcher')}"
    )
    return parser


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {value!r}")
    return seconds
