"""What the commands share: argparse types and options, and the reading of their config and
of RABBITMQ_URL."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable

from .config import AUTO, MAX_PROCESSES, Config, load_config
from .limits import DECIMAL, MAX_PORT
from .url import DEFAULT_URL, Target, parse_url

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


def configured(path: str) -> tuple[Config, list[Target]]:
    """The config at `path` and the brokers of RABBITMQ_URL."""
    config = load_config(path)
    url = os.environ.get("RABBITMQ_URL") or DEFAULT_URL
    return config, parse_url(url, os.environ.get("RABBITMQ_HEARTBEAT"))
