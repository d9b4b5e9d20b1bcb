"""Startup handlers and consumers that misbehave in ways the daemon must report, not die of."""

import logging
import sys
import time

from scripted import Scripted, record

from amqpdispatcher import daemon


class ExitsWhenCreated(Scripted):
    """Calls sys.exit(0) in __init__: SystemExit is not an Exception."""

    def __init__(self) -> None:
        sys.exit(0)


def exit_at_startup() -> None:
    sys.exit(0)


def wait_for_sigint() -> None:
    """Blocks the start, without gevent, until SIGINT raises KeyboardInterrupt here."""
    record(event="startup")
    while True:
        time.sleep(0.05)


def simulate_a_bug() -> None:
    """Makes the daemon raise an error of no class it knows, as a bug of its own would."""

    def run(self) -> None:
        raise RuntimeError("simulated bug")

    daemon.Dispatcher.run = run


class LogsItsShutdown(Scripted):
    """Logs its shutdown, for tests of the order of the daemon's log."""

    def shutdown(self, exception) -> None:
        logging.getLogger("oddities").info("shutdown(%r)", exception)
