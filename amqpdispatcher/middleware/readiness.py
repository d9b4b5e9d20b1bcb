"""Readiness, read off what the metrics middleware saw: connected to the broker, and every pool
consuming."""

from __future__ import annotations

from .metrics import Metrics


class Readiness:
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def state(self) -> dict:
        """{"ready": ..., "connected": ..., "consuming": {queue: ...}}: a queue consumed by
        several pools counts as consuming when all of them are."""
        consuming: dict[str, bool] = {}
        for pool in self._metrics.pools:
            queue = pool.labels[0]
            consuming[queue] = consuming.get(queue, True) and bool(pool.consuming)
        connected = bool(self._metrics.connected)
        return {
            "ready": connected and all(consuming.values()),
            "connected": connected,
            "consuming": consuming,
        }
