"""A daemon's numbers per queue, read off its /metrics, and their rates between two scrapes."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from ..middleware.metrics import ANSWERS

COUNTED = ("deliveries", *ANSWERS, "errors", "retries", "archived")
GAUGES = ("in_flight", "instances")
ANSWERS_TOTAL = "amqp_dispatcher_answers_total"  # one series per answer, its label
_NUMBERS = {  # the metric of each number but the answers, summed over its other labels
    "amqp_dispatcher_deliveries_total": "deliveries",
    "amqp_dispatcher_consume_errors_total": "errors",
    "amqp_dispatcher_retries_total": "retries",
    "amqp_dispatcher_archived_total": "archived",
    "amqp_dispatcher_in_flight": "in_flight",
    "amqp_dispatcher_instances": "instances",
}

Numbers = dict[str, dict[str, float]]  # by queue, then by name (COUNTED and GAUGES)


@dataclass(frozen=True)
class QueueRates:
    counted: dict[str, int]  # how much each counter grew between the scrapes
    per_second: dict[str, float]
    in_flight: int  # at the second scrape, over every worker and consumer class
    instances: int


def queue_numbers(text: str) -> Numbers:
    """The numbers of each queue in a /metrics text, summed over consumer classes and workers;
    ValueError if it is not Prometheus' text format."""
    numbers: Numbers = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == ANSWERS_TOTAL:
                name = sample.labels.get("answer")
            else:
                name = _NUMBERS.get(sample.name)
            queue = sample.labels.get("queue")
            if name in COUNTED + GAUGES and queue is not None:
                per_queue = numbers.setdefault(queue, dict.fromkeys(COUNTED + GAUGES, 0.0))
                per_queue[name] += sample.value
    return numbers


def rates(first: Numbers, second: Numbers, seconds: float) -> dict[str, QueueRates]:
    """Each queue of the `second` scrape, taken `seconds` after the `first`."""
    result = {}
    for queue, now in second.items():
        before = first.get(queue, {})
        counted = {name: round(_growth(before.get(name, 0.0), now[name])) for name in COUNTED}
        result[queue] = QueueRates(
            counted=counted,
            per_second={name: count / seconds for name, count in counted.items()},
            in_flight=round(now["in_flight"]),
            instances=round(now["instances"]),
        )
    return result


def _growth(before: float, now: float) -> float:
    """A counter that went down was reset, the daemon started again: it grew by all it has."""
    return now - before if now >= before else now
