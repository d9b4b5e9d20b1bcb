"""A running daemon, asked over its HTTP endpoint: its readiness (/readyz), and the rates of
its queues from two scrapes of /metrics some seconds apart."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from .fetch import Unreachable, get
from .rates import QueueRates, queue_numbers, rates


@dataclass
class DaemonState:
    url: str
    error: str | None = None  # why it could not be asked: then nothing else is known
    status: int | None = None  # of /readyz
    readiness: object = None  # the body of /readyz, its JSON if it is
    seconds: float = 0.0  # between the scrapes
    queues: dict[str, QueueRates] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return (
            self.status == 200
            and isinstance(self.readiness, dict)
            and self.readiness.get("ready") is True
        )


def inspect_daemon(url: str, window: float) -> DaemonState:
    """The readiness and rates of the daemon at `url`, scraped `window` seconds apart."""
    base = url.rstrip("/")
    state = DaemonState(url)
    try:
        state.status, body = get(f"{base}/readyz")
        state.readiness = _json(body)
        first, started = _scrape(base), time.monotonic()
        time.sleep(window)
        second, state.seconds = _scrape(base), time.monotonic() - started
    except Unreachable as exc:
        state.error = str(exc)
        return state
    state.queues = rates(first, second, state.seconds)
    return state


def _scrape(base: str) -> dict:
    status, body = get(f"{base}/metrics")
    if status != 200:
        raise Unreachable(f"/metrics answered HTTP {status}")
    try:
        return queue_numbers(body)
    except ValueError as exc:
        raise Unreachable(f"/metrics is not Prometheus' text format: {exc}") from None


def _json(body: str) -> object:
    try:
        return json.loads(body)
    except ValueError:
        return body
