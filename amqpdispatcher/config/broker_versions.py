"""What RabbitMQ 4.x refuses, or does differently, in a config that RabbitMQ 3.x takes: one
warning a setting, naming its YAML path and the version that changed it
(docs/rabbitmq4.rst)."""

from collections.abc import Iterator, Sequence

from ..substitution import shown
from .consumers import ConsumerSpec
from .queues import QueueSpec

QUORUM_DELIVERY_LIMIT = 20  # RabbitMQ 4.0's default x-delivery-limit of a quorum queue
REPLICATED = ("quorum", "stream")
_MIRRORING = "classic mirrored queues were removed in RabbitMQ 4.0; use x-queue-type: quorum"
_REFUSED_ON_4_3 = "RabbitMQ 4.3 refuses to declare a queue with"


def broker_version_warnings(
    queues: Sequence[QueueSpec],
    consumers: Sequence[ConsumerSpec],
    retry_queues: Sequence[QueueSpec],
) -> list[str]:
    lines = []
    for queue in queues:
        lines += _argument_warnings(queue)
        lines += _quorum_warnings(queue, consumers)
        if not queue.passive and _transient(queue):
            lines.append(
                f"{queue.path}.durable: queue {shown(queue.name)} is neither durable nor "
                "exclusive: RabbitMQ 4.3 refuses to declare such a queue by default (deprecated "
                "feature transient_nonexcl_queues); make it durable (with x_expires to have it "
                "deleted when unused) or exclusive"
            )
    lines += _transient_retry_queues(retry_queues)
    return lines


def _argument_warnings(queue: QueueSpec) -> Iterator[str]:
    for name, value in queue.arguments.items():
        path = queue.argument_paths.get(name, queue.path)
        if name == "x-queue-mode":
            yield (
                f"{path}: ignored since RabbitMQ 3.12, and {_REFUSED_ON_4_3} x-queue-mode, "
                "whatever its value: remove it"
            )
        elif name == "x-queue-version" and value == 1 and not isinstance(value, bool):
            yield (
                f"{path}: {_REFUSED_ON_4_3} x-queue-version 1 (its storage was removed): "
                "remove it, or set 2"
            )
        elif name == "x-ha-policy" or name.startswith(("ha-", "x-ha-")):
            yield f"{path}: {_MIRRORING}"


def _quorum_warnings(queue: QueueSpec, consumers: Sequence[ConsumerSpec]) -> Iterator[str]:
    """A quorum queue with a delivery limit but neither a dead-letter exchange nor a retry block
    in every entry consuming it: the broker drops a message that failed that often. The limit
    is 20 unless x-delivery-limit says otherwise, a negative one meaning none."""
    if queue.arguments.get("x-queue-type") != "quorum":
        return
    if isinstance(queue.arguments.get("x-dead-letter-exchange"), str):
        return
    entries = [consumer for consumer in consumers if consumer.queue == queue.name]
    if entries and all(consumer.retry is not None for consumer in entries):
        return
    limit = queue.arguments.get("x-delivery-limit")
    unprotected = (
        f"quorum queue {shown(queue.name)} has no dead-letter exchange, and not every consumers "
        "entry of it has a retry: block"
    )
    if isinstance(limit, int) and not isinstance(limit, bool):
        if limit >= 0:
            yield (
                f"{queue.argument_paths['x-delivery-limit']}: {unprotected}: the broker drops a "
                f"message redelivered {limit} times; set x-dead-letter-exchange or retry:"
            )
        return
    path = queue.argument_paths.get("x-queue-type", queue.path)
    yield (
        f"{path}: {unprotected}: since RabbitMQ 4.0 the broker drops a message redelivered "
        f"{QUORUM_DELIVERY_LIMIT} times (the default x-delivery-limit); set "
        "x-dead-letter-exchange, retry:, or a higher x-delivery-limit"
    )


def _transient(queue: QueueSpec) -> bool:
    return (
        not queue.durable
        and not queue.exclusive
        and queue.arguments.get("x-queue-type") not in REPLICATED
    )


def _transient_retry_queues(retry_queues: Sequence[QueueSpec]) -> Iterator[str]:
    """The delay and archive queues are declared durable like their work queue: one line for
    each retry block whose queues are not."""
    paths = dict.fromkeys(queue.path for queue in retry_queues if _transient(queue))
    for path in paths:
        names = ", ".join(shown(queue.name) for queue in retry_queues if queue.path == path)
        yield (
            f"{path}: its delay and archive queues ({names}) are transient like its work "
            "queue: RabbitMQ 4.3 refuses to declare them by default (deprecated feature "
            "transient_nonexcl_queues); make the work queue durable"
        )
