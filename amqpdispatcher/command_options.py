"""The argparse types and options that the commands share."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from .config import AUTO, MAX_PROCESSES
from .inspection.fetch import http_url_problem
from .limits import DECIMAL, MAX_PORT

ENVIRONMENT = "Environment: RABBITMQ_URL, RABBITMQ_HEARTBEAT, LOGGING_FILE_CONFIG."


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", default="config.yml", metavar="PATH", help="YAML config (default: %(default)s)"
    )


def whole_number(expected: str, maximum: float = math.inf) -> Callable[[str], int]:
    """An argparse type: a whole number from 1 to `maximum`, in ASCII digits."""

    def parse(value: str) -> int:
        if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= maximum:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value!r}")
        return int(value)

    return parse


count = whole_number("a whole number >= 1")
port = whole_number(f"a port from 1 to {MAX_PORT}", MAX_PORT)
_process_count = whole_number(
    f"a whole number from 1 to {MAX_PROCESSES}, or '{AUTO}'", MAX_PROCESSES
)


def processes(value: str) -> int | str:
    return AUTO if value == AUTO else _process_count(value)


def seconds(maximum: float = math.inf, minimum: float = 0) -> Callable[[str], float]:
    """An argparse type: a decimal number of seconds from `minimum` to `maximum`, in ASCII
    digits (float() would also take 'nan', 'inf', '1e999', '1_0' and '٣')."""
    upper = f"to {maximum:g}" if math.isfinite(maximum) else ""
    expected = f"from {minimum:g} {upper}".strip() if upper else f">= {minimum:g}"

    def parse(value: str) -> float:
        if not DECIMAL.fullmatch(value) or not minimum <= float(value) <= maximum:
            raise argparse.ArgumentTypeError(f"expected seconds {expected}, got {value!r}")
        return float(value)

    return parse


def http_url(value: str) -> str:
    """An argparse type: the base URL of an HTTP endpoint."""
    problem = http_url_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(f"{problem}, got {value!r}")
    return value
