"""Readiness, as the hooks report it: connected to the broker, and every pool consuming."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .middleware import Middleware

if TYPE_CHECKING:
    from ..config import ConsumerSpec
    from ..url import Target


class Readiness(Middleware):
    def __init__(self, consumers: Sequence[ConsumerSpec]) -> None:
        self._connected = False
        self._consuming = dict.fromkeys(consumers, False)

    def state(self) -> dict:
        """{"ready": ..., "connected": ..., "consuming": {queue: ...}}: a queue consumed by
        several pools counts as consuming when all of them are."""
        consuming: dict[str, bool] = {}
        for spec, subscribed in self._consuming.items():
            consuming[spec.queue] = consuming.get(spec.queue, True) and subscribed
        ready = self._connected and all(consuming.values())
        return {"ready": ready, "connected": self._connected, "consuming": consuming}

    def after_connection_opened(self, target: Target) -> None:
        self._connected = True

    def after_connection_lost(self, target: Target, reason: Exception) -> None:
        self._connected = False
        self._consuming = dict.fromkeys(self._consuming, False)  # they went with it

    def after_consuming_started(self, consumer: ConsumerSpec) -> None:
        self._consuming[consumer] = True

    def after_consuming_stopped(self, consumer: ConsumerSpec, reason: str) -> None:
        self._consuming[consumer] = False
