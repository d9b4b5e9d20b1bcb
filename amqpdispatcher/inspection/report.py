"""What `amqp-dispatcher status` found, as the problems that fail it, a screen for a person, or
one JSON document for a script."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .daemon import DaemonState
from .depths import MISSING
from .queues import WORK, QueueRow, every_queue
from .rates import COUNTED

UNKNOWN = "?"


@dataclass
class Status:
    queues: list[QueueRow]
    unacked_from: str  # the management API's URL
    unacked_note: str | None  # why unacked is unknown, if it is
    daemon: DaemonState | None  # with --http-url

    def problems(self) -> list[str]:
        """One line each: a queue missing or that the broker would not tell of, a work queue
        without a consumer, a daemon that is not reachable or not ready."""
        found = []
        for queue in every_queue(self.queues):
            if queue.absent is not None:
                found.append(f"queue '{queue.name}': {queue.absent}")
            elif queue.kind == WORK and queue.consumers == 0:
                found.append(f"queue '{queue.name}': no consumer")
        daemon = self.daemon
        if daemon is not None and daemon.error is not None:
            found.append(f"daemon {daemon.url}: not reachable: {daemon.error}")
        elif daemon is not None and not daemon.ready:
            why = _unready(daemon.readiness)
            found.append(f"daemon {daemon.url}: not ready (HTTP {daemon.status}){why}")
        return found


def screen(status: Status) -> list[str]:
    """The lines to print: the queues, the daemon, the note on unacked, then the problems."""
    lines = table(
        ("QUEUE", "READY", "UNACKED", "CONSUMERS", "CONSUMER CLASSES"),
        [_queue_cells(queue) for queue in every_queue(status.queues)],
        left=(0, 4),
    )
    if status.daemon is not None:
        lines += ["", *_daemon_lines(status.daemon, [row.name for row in status.queues])]
    if status.unacked_note is not None:
        lines += ["", f"note: {status.unacked_note}"]
    problems = status.problems()
    if problems:
        lines += ["", *(f"problem: {problem}" for problem in problems)]
    return lines


def document(status: Status) -> dict:
    """Everything, for `--json`."""
    problems = status.problems()
    daemon = status.daemon
    return {
        "ok": not problems,
        "problems": problems,
        "queues": [
            {**_queue_fields(row), "retry_queues": [_queue_fields(queue) for queue in row.retry]}
            for row in status.queues
        ],
        "unacked": {"source": status.unacked_from, "note": status.unacked_note},
        "daemon": None if daemon is None else _daemon_fields(daemon),
    }


def table(header: Sequence[str], rows: list[Sequence[str]], left: Sequence[int]) -> list[str]:
    """Aligned columns two spaces apart: those numbered in `left` to the left, the others (the
    numbers) to the right."""
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header))]
    lines = []
    for row in (header, *rows):
        cells = [
            cell.ljust(width) if column in left else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def _queue_cells(queue: QueueRow) -> tuple[str, ...]:
    name = queue.name if queue.kind == WORK else f"  {queue.name}"
    what = ", ".join(queue.classes) if queue.kind == WORK else f"({queue.kind})"
    if queue.absent is not None:
        return name, "missing" if queue.absent == MISSING else "error", "-", "-", what
    unacked = UNKNOWN if queue.unacked is None else str(queue.unacked)
    return name, str(queue.ready), unacked, str(queue.consumers), what


def _queue_fields(queue: QueueRow) -> dict:
    fields = {"name": queue.name, "kind": queue.kind}
    if queue.kind == WORK:
        fields["consumer_classes"] = queue.classes
    return {
        **fields,
        "exists": _exists(queue),
        "error": queue.absent,
        "ready": queue.ready,
        "unacked": queue.unacked,
        "consumers": queue.consumers,
    }


def _exists(queue: QueueRow) -> bool | None:
    """None when the broker would not say."""
    if queue.absent is None:
        return True
    return False if queue.absent == MISSING else None


_RATE_HEADERS = {
    "deliveries": "DELIVERIES/S",
    "ack": "ACK/S",
    "nack": "NACK/S",
    "reject": "REJECT/S",
    "errors": "ERRORS/S",
    "retries": "RETRIES/S",
    "archived": "ARCHIVED/S",
}


def _daemon_lines(daemon: DaemonState, configured: list[str]) -> list[str]:
    """Its readiness, then its rates by queue: the configured ones first, in the config's
    order."""
    if daemon.error is not None:
        return [f"daemon {daemon.url}: not reachable"]
    readiness = "ready" if daemon.ready else "not ready"
    seconds = f"{daemon.seconds:.1f}"
    lines = [f"daemon {daemon.url}: {readiness} (HTTP {daemon.status}); rates over {seconds} s"]

    def position(queue: str) -> tuple[int, str]:
        return (configured.index(queue) if queue in configured else len(configured), queue)

    rows = [
        (
            queue,
            *(f"{rates.per_second[name]:.1f}" for name in COUNTED),
            str(rates.in_flight),
            str(rates.instances),
        )
        for queue, rates in sorted(daemon.queues.items(), key=lambda item: position(item[0]))
    ]
    header = ("QUEUE", *(_RATE_HEADERS[name] for name in COUNTED), "IN FLIGHT", "INSTANCES")
    return lines + table(header, rows, left=(0,))


def _daemon_fields(daemon: DaemonState) -> dict:
    return {
        "url": daemon.url,
        "reachable": daemon.error is None,
        "error": daemon.error,
        "ready": daemon.ready,
        "status": daemon.status,
        "readiness": daemon.readiness,
        "seconds": daemon.seconds,
        "queues": {
            queue: {
                "per_second": rates.per_second,
                "counted": rates.counted,
                "in_flight": rates.in_flight,
                "instances": rates.instances,
            }
            for queue, rates in daemon.queues.items()
        },
    }


def _unready(readiness: object) -> str:
    """': worker 1: not connected; worker 2: not running', from the body of /readyz."""
    workers = readiness.get("workers") if isinstance(readiness, dict) else None
    if not isinstance(workers, dict):
        return ""
    parts = []
    for number, state in workers.items():
        if not isinstance(state, dict) or state.get("ready") is True:
            continue
        parts.append(f"worker {number}: {', '.join(_worker_reasons(state))}")
    return f": {'; '.join(parts)}" if parts else ""


def _worker_reasons(state: dict) -> list[str]:
    if state.get("running") is False:
        return ["not running"]
    reasons = [] if state.get("connected") else ["not connected"]
    consuming = state.get("consuming")
    idle = (
        [queue for queue, on in consuming.items() if not on] if isinstance(consuming, dict) else []
    )
    if idle:
        reasons.append("not consuming " + ", ".join(f"'{queue}'" for queue in idle))
    if state.get("publishing_blocked"):
        reasons.append("publishing blocked")
    return reasons or ["not ready"]
