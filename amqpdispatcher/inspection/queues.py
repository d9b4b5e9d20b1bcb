"""The queues a config makes the daemon consume, each with the delay and archive queues of
its retry blocks."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..config import Config
from ..config.retry_queues import retry_queues_of

WORK = "work"


@dataclass
class QueueRow:
    """A queue to look at. `kind` is "work" for a queue consumers entries consume, with their
    classes, or "delay" or "archive" for one of its retry blocks' queues, under `retry`."""

    name: str
    kind: str = WORK
    classes: list[str] = field(default_factory=list)
    retry: list[QueueRow] = field(default_factory=list)
    ready: int | None = None  # as the broker tells: None until read, or if it cannot be
    consumers: int | None = None
    unacked: int | None = None  # None when unknown: only the management API tells it
    absent: str | None = None  # why the broker cannot tell: "does not exist", or its refusal


def configured_queues(config: Config) -> list[QueueRow]:
    """One row per queue consumed, in the order of the consumers entries, each class once."""
    rows: dict[str, QueueRow] = {}
    for consumer in config.consumers:
        row = rows.setdefault(consumer.queue, QueueRow(consumer.queue))
        if consumer.consumer not in row.classes:
            row.classes.append(consumer.consumer)
        if consumer.retry is None:
            continue
        known = {queue.name for queue in row.retry}
        for _where, kind, spec in retry_queues_of(consumer, None):
            if spec.name not in known:
                known.add(spec.name)
                row.retry.append(QueueRow(spec.name, kind))
    return list(rows.values())


def every_queue(rows: list[QueueRow]) -> list[QueueRow]:
    """The rows and, after each, its retry queues."""
    return [queue for row in rows for queue in (row, *row.retry)]
