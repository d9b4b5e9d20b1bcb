"""Warning when a consumer blocks the event loop.

Everything in the daemon, heartbeats included, runs on gevent's event loop. A consumer that
computes or calls blocking I/O without yielding stops all of it; past the heartbeat timeout
the broker drops the connection. gevent's monitor thread notices the loop stalling; this turns
its notice into one warning that names the consumer and shows where it was."""

from __future__ import annotations

import logging
import warnings

import gevent
import gevent.events

log = logging.getLogger("amqp-dispatcher")
MAX_BLOCKING_TIME = 86400.0  # gevent's monitor thread dies of an OverflowError past ~9e9 s
_blocked_total = 0.0  # seconds, added to by gevent's monitor thread


def blocked_seconds() -> float:
    """How long the loop was seen blocked so far: the monitor checks once per
    max_blocking_time, and counts that much for each check that finds it blocked."""
    return _blocked_total


def watch_event_loop(max_blocking_time: float) -> None:
    """Warn once the loop has been blocked `max_blocking_time` seconds; 0 turns the watch off
    (gevent takes 0 as unset and its monitor thread then dies of a TypeError)."""
    if max_blocking_time == 0:
        return
    gevent.config.monitor_thread = True
    gevent.config.max_blocking_time = max_blocking_time
    gevent.config.print_blocking_reports = False  # the warning below says it in one record
    gevent.events.subscribers.append(_on_event)
    with warnings.catch_warnings():  # the memory monitor wants psutil; memory is not watched
        warnings.filterwarnings("ignore", message="Unable to monitor memory usage")
        gevent.get_hub().start_periodic_monitoring_thread()


def _on_event(event: object) -> None:
    global _blocked_total
    if isinstance(event, gevent.events.EventLoopBlocked):
        _blocked_total += event.blocking_time
        culprit = getattr(event.greenlet, "name", None) or repr(event.greenlet)
        log.warning(
            "the event loop was blocked for more than %.1fs by %s: consume must not hog the CPU "
            "or block without yielding to gevent (see docs/consumers.rst: Concurrency)\n%s",
            event.blocking_time,
            culprit,
            "\n".join(_blocked_stack(event.info)),
        )


def _blocked_stack(report: list[str]) -> list[str]:
    """The blocked greenlet's stack, out of gevent's longer report."""
    lines = "\n".join(report).splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Blocked Stack")), None)
    if start is None:
        return []
    stack = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        stack.append(line)
    return stack
