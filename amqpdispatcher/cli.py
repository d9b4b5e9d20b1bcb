"""The `amqp-dispatcher` command."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from importlib.metadata import version

from .arbiter import MIN_WORKER_TIMEOUT, Arbiter, Settings, SignalQueue
from .blocking import MAX_BLOCKING_TIME
from .command_options import ENVIRONMENT, add_config, port, processes, seconds
from .config import (
    AUTO,
    LOG_FORMATS,
    MAX_PROCESSES,
    Config,
    ConfigError,
    load_config,
    warnings,
)
from .errors import EXIT_CONFIG, EXIT_FAILURE, EXIT_RESTART, DispatcherError, report
from .excerpt import counted
from .loader import (
    LoadError,
    add_working_directory_to_path,
    load_consumer_classes,
    load_middleware_classes,
    load_startup_handler,
    one_line,
    run_startup_handler,
)
from .logs import LoggingSetupError, setup_logging, use_format
from .middleware.metrics import METRICS_DIRECTORY
from .references import warnings as exchange_warnings
from .reimport import OwnModules
from .url import DEFAULT_URL, Target, mask, parse_url
from .worker import Generation

log = logging.getLogger("amqp-dispatcher")
INTERRUPTED = 130  # the shell's status for a command stopped by SIGINT


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parse(argv)
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
    settings = Settings(
        path=args.config,
        shutdown_timeout=args.shutdown_timeout,
        max_blocking_time=args.max_blocking_time,
        worker_timeout=args.worker_timeout,
        processes=args.processes,
        log_format=args.log_format,
        http_port=args.http_port,
        http_address=args.http_address,
    )
    return run(settings)


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
    return exchange_warnings(config) + warnings(config)


def _print_findings(path: str, warnings: list[str], errors: list[str]) -> None:
    for kind, lines in (("warning", warnings), ("error", errors)):
        for line in lines:
            print(f"{path}: {kind}: {line}", file=sys.stderr)


def run(settings: Settings) -> int:
    """The daemon: the arbiter and its workers."""
    signals = SignalQueue(signal.SIGHUP)  # from the very start: SIGHUP never kills
    try:
        return _run(settings, signals)
    except DispatcherError as exc:
        status = report(exc, settings.path)
        return EXIT_FAILURE if status == EXIT_RESTART else status  # the arbiter's own start
    finally:
        signals.cancel()


def _run(settings: Settings, signals: SignalQueue) -> int:
    config = load_config(settings.path)
    with _metrics_directory(settings.http_port_of(config)) as directory:
        generation, targets = _prepare(settings, config)
        signals.add(signal.SIGTERM, signal.SIGINT)  # from now on, they stop the workers
        return Arbiter(settings, generation, targets, signals, directory).run()


def _prepare(settings: Settings, config: Config) -> tuple[Generation, list[Target]]:
    """All that comes before the workers, once the config is read: the log format set, the URL
    parsed, the startup handler run, middleware and consumer classes imported."""
    path = settings.path
    use_format(settings.log_format or config.log_format)
    url = os.environ.get("RABBITMQ_URL") or DEFAULT_URL
    targets = parse_url(url, os.environ.get("RABBITMQ_HEARTBEAT"))
    log.info("amqp-dispatcher %s: %s, broker %s", version("amqp-dispatcher"), path, mask(url))
    for warning in warnings(config):
        log.warning("%s: %s", path, warning)
    own_modules = OwnModules()
    run_startup_handler(config)
    load_middleware_classes(config)
    classes = load_consumer_classes(config)
    own_modules.loaded()
    return Generation(config, classes, own_modules), targets


@contextlib.contextmanager
def _metrics_directory(port: int | None) -> Iterator[str | None]:
    """With a port, a directory of the daemon's own for the workers' metrics (metricfiles.py),
    named in $PROMETHEUS_MULTIPROC_DIR before anything imports prometheus_client, the
    operator's code included, and removed at the end; without one, None."""
    if port is None:
        yield None
        return
    directory = tempfile.mkdtemp(prefix="amqp-dispatcher-metrics-")
    os.environ[METRICS_DIRECTORY] = directory
    try:
        yield directory
    finally:
        os.environ.pop(METRICS_DIRECTORY, None)
        shutil.rmtree(directory, ignore_errors=True)


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


# The commands besides the daemon's own, each a module whose parser() sets the function to run;
# imported only when asked for, so that the daemon loads nothing of theirs.
SUBCOMMANDS = ("replay", "archive", "status")


def _parse(argv: list[str]) -> argparse.Namespace:
    if argv and argv[0] in SUBCOMMANDS:
        command = importlib.import_module(f".{argv[0]}", __package__)
        return command.parser().parse_args(argv[1:])
    return _parser().parse_args(argv)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="amqp-dispatcher",
        description="Run consumer classes against RabbitMQ queues, as the YAML config says.",
        epilog=f"{ENVIRONMENT} "
        "Subcommands: 'amqp-dispatcher replay --queue NAME' moves the messages archived from a "
        "queue back to it; 'amqp-dispatcher archive list|show|purge --queue NAME' reads or "
        "removes them; 'amqp-dispatcher status' shows the configured queues, their depths and "
        "consumers, and checks them (see 'amqp-dispatcher SUBCOMMAND --help').",
    )
    parser.set_defaults(start=_start)
    add_config(parser)
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
        type=seconds(),
        default=30.0,
        metavar="SECONDS",
        help="on SIGTERM/SIGINT, how long running consume calls may take (default: %(default)g)",
    )
    parser.add_argument(
        "--processes",
        type=processes,
        metavar="N",
        help=f"worker processes, from 1 to {MAX_PROCESSES}, or '{AUTO}' for one per CPU "
        "(default: the config's processes, else 1)",
    )
    parser.add_argument(
        "--worker-timeout",
        type=seconds(minimum=MIN_WORKER_TIMEOUT),
        default=30.0,
        metavar="SECONDS",
        help="kill and replace a worker that sends no heartbeat for this long, its event loop "
        "blocked (default: %(default)g)",
    )
    parser.add_argument(
        "--max-blocking-time",
        type=seconds(MAX_BLOCKING_TIME),
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
        type=port,
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
