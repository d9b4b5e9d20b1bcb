"""The `status` command: per configured queue, its messages ready and unacked, its consumers,
and its retry block's delay and archive queues; with a running daemon's URL, its readiness and
its rates. Read-only; exits 1 when a queue is missing or has no consumer, or the daemon is not
ready, so that it doubles as a check."""

from __future__ import annotations

import argparse
import json

from .command_options import ENVIRONMENT, add_config, configured, seconds
from .errors import EXIT_FAILURE, DispatcherError, report
from .inspection.daemon import inspect_daemon
from .inspection.depths import read_depths
from .inspection.fetch import http_url_problem
from .inspection.management import MANAGEMENT_URL, management_api, read_unacked
from .inspection.queues import configured_queues, every_queue
from .inspection.report import Status, document, screen

MAX_WINDOW = 3600.0


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="amqp-dispatcher status",
        description="Show, per queue the config consumes, the messages ready and unacked, the "
        "consumers, and the depths of its retry queues; with --http-url, a running daemon's "
        "readiness and rates. Exit 1 when a queue is missing or has no consumer, or the daemon "
        "is not ready.",
        epilog=f"{ENVIRONMENT} {MANAGEMENT_URL}: the management API's URL.",
    )
    parser.set_defaults(start=_start)
    add_config(parser)
    parser.add_argument(
        "--http-url",
        type=http_url,
        metavar="URL",
        help="the HTTP endpoint of a running daemon (http://127.0.0.1:9102): its readiness and "
        "its rates per queue",
    )
    parser.add_argument(
        "--window",
        type=seconds(MAX_WINDOW, minimum=0.1),
        default=1.0,
        metavar="SECONDS",
        help="with --http-url, the rates are measured over this long (default: %(default)g)",
    )
    parser.add_argument(
        "--management-url",
        type=http_url,
        metavar="URL",
        help="RabbitMQ's management HTTP API, which alone tells the unacked messages (default: "
        f"${MANAGEMENT_URL}, else http://HOST:15672 for the first host of RABBITMQ_URL, with its "
        "credentials)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    return parser


def http_url(value: str) -> str:
    """An argparse type: the base URL of an HTTP endpoint."""
    problem = http_url_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(f"{problem}, got {value!r}")
    return value


def _start(args: argparse.Namespace) -> int:
    path = args.config
    try:
        config, targets = configured(path)
        api = management_api(args.management_url, targets[0])
        rows = configured_queues(config)
        read_depths(targets, every_queue(rows))
    except DispatcherError as exc:
        return report(exc, path)
    note = read_unacked(api, every_queue(rows))
    daemon = inspect_daemon(args.http_url, args.window) if args.http_url else None
    status = Status(rows, api.base, note, daemon)
    if args.json:
        print(json.dumps(document(status), indent=2))
    else:
        print("\n".join(screen(status)))
    return EXIT_FAILURE if status.problems() else 0
