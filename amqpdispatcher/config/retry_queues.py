"""The queues the consumers' retry blocks need, declared after `queues`: a delay queue for each
distinct delay and the archive (their names and arguments: amqpdispatcher.retry.queues).
Entries sharing a work queue share its delay queues: each name is declared once."""

from collections.abc import Iterator, Sequence

from ..limits import MAX_SHORTSTR
from ..retry.queues import archive_arguments, delay_arguments, delay_queue_name
from ..substitution import shown
from .consumers import ConsumerSpec
from .queues import QueueSpec
from .retry import RetrySpec

DELAY, ARCHIVE = "delay", "archive"


def retry_queues(
    queues: Sequence[QueueSpec], consumers: Sequence[ConsumerSpec], problems: list[str]
) -> tuple[QueueSpec, ...]:
    """The delay and archive queues of every retry block, each name once. A name that is too
    long, that `queues` declares, that a consumer consumes, or that two blocks derive with
    different settings is a problem, at the YAML path of the value it comes from."""
    declared = {queue.name: queue for queue in queues if queue.name is not None}
    consumed = {}
    for consumer in consumers:
        consumed.setdefault(consumer.queue, consumer.path)
    derived: dict[str, QueueSpec] = {}
    for consumer in consumers:
        if consumer.retry is None:
            continue
        for where, kind, queue in retry_queues_of(consumer, declared.get(consumer.queue)):
            problem = _problem(kind, queue, declared, consumed, derived)
            if problem:
                problems.append(f"{where}: {problem}")
            else:
                derived.setdefault(queue.name, queue)
    return tuple(derived.values())


def retry_queues_of(
    consumer: ConsumerSpec, work: QueueSpec | None
) -> Iterator[tuple[str, str, QueueSpec]]:
    """(YAML path, kind, spec) of each queue `consumer`'s retry block needs. Durable like the
    work queue (which is durable when `queues` does not list it), quorum when it is quorum."""
    retry = consumer.retry
    quorum = work is not None and work.arguments.get("x-queue-type") == "quorum"
    durable = quorum or work is None or work.durable
    seen = set()
    # Retry n waits backoff[min(n, len - 1)], n from 0 to max_retries - 1: the rest is unused.
    for index, seconds in enumerate(retry.backoff[: retry.max_retries]):
        name = delay_queue_name(consumer.queue, seconds)
        if name in seen:
            continue
        seen.add(name)
        arguments = delay_arguments(consumer.queue, seconds, quorum)
        yield f"{retry.path}.backoff[{index}]", DELAY, _spec(name, durable, arguments, retry)
    arguments = archive_arguments(retry.archive_ttl, quorum)
    yield retry.path, ARCHIVE, _spec(retry.archive_queue, durable, arguments, retry)


def _spec(name: str, durable: bool, arguments: dict, retry: RetrySpec) -> QueueSpec:
    return QueueSpec(
        name=name,
        durable=durable,
        auto_delete=False,
        exclusive=False,
        passive=False,
        arguments=arguments,
        bindings=(),
        path=retry.path,
    )


def _problem(
    kind: str,
    queue: QueueSpec,
    declared: dict[str, QueueSpec],
    consumed: dict[str, str],
    derived: dict[str, QueueSpec],
) -> str | None:
    name, quoted = queue.name, shown(queue.name)
    size = len(name.encode())
    if size > MAX_SHORTSTR:
        return (
            f"the {kind} queue's name {quoted} is too long: {size} bytes in UTF-8, "
            f"at most {MAX_SHORTSTR} allowed"
        )
    if name in declared:
        return (
            f"the {kind} queue {quoted} is also declared under queues, at {declared[name].path}; "
            "the daemon declares it itself"
        )
    if name in consumed:
        return f"the {kind} queue {quoted} is the queue that {consumed[name]} consumes"
    other = derived.get(name)
    if other is not None and (other.durable, other.arguments) != (queue.durable, queue.arguments):
        return f"the {kind} queue {quoted} is also derived by {other.path}, with other settings"
    return None
