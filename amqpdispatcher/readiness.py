"""Readiness, read off what the metrics middleware saw: connected to the broker, every pool
consuming, and publishing not blocked by the broker; the daemon's, across its workers."""

from __future__ import annotations

from collections.abc import Mapping

from .middleware.metrics import Metrics

DOWN = {"ready": False, "running": False}  # a worker that is not running, or has not said


class Readiness:
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def state(self) -> dict:
        """{"ready": ..., "connected": ..., "consuming": {queue: ...}, "publishing_blocked":
        ...}: a queue consumed by several pools counts as consuming when all of them are. While
        the broker blocks publishing, every pool that publishes or retries is stalled: not
        ready."""
        consuming: dict[str, bool] = {}
        for pool in self._metrics.pools:
            queue = pool.labels[0]
            consuming[queue] = consuming.get(queue, True) and bool(pool.consuming)
        connected = bool(self._metrics.connected)
        blocked = bool(self._metrics.publishing_blocked)
        return {
            "ready": connected and all(consuming.values()) and not blocked,
            "connected": connected,
            "consuming": consuming,
            "publishing_blocked": blocked,
        }


def across_workers(states: Mapping[int, dict | None], expected: int) -> dict:
    """{"ready": ..., "workers": {"1": state, ...}}: ready when each worker numbered 1 to
    `expected` said it was (its Readiness.state()); one without a state is shown DOWN."""
    workers = {str(number): states.get(number) or DOWN for number in range(1, expected + 1)}
    return {
        "ready": all(state.get("ready") is True for state in workers.values()),
        "workers": workers,
    }
