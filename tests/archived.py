"""Archives of the tests' own, holding messages with the headers the retry policy gives a
message it archives, for the replay and archive tests."""

from collections.abc import Callable

FAILURE = {
    "x-retry-count": 4,
    "x-exception-type": "RuntimeError",
    "x-exception-message": "scripted failure",
    "x-failed-at": "2024-05-01T12:00:00.000000Z",
    # The broker's, from the delay queues: of no use to a message that starts afresh.
    "x-death": [{"count": 4, "reason": "expired", "queue": "q.delay.1s", "exchange": ""}],
    "x-first-death-exchange": "",
    "x-first-death-queue": "q.delay.1s",
    "x-first-death-reason": "expired",
    "x-last-death-exchange": "",
    "x-last-death-queue": "q.delay.1s",
    "x-last-death-reason": "expired",
}
ORIGIN = {"x-original-exchange": "events", "x-original-routing-key": "job.created"}


def archive(
    broker,
    queue: str,
    count: int,
    work_queue: bool = True,
    failure: Callable[[int], dict] = lambda _n: {},
    arguments: dict | None = None,
) -> str:
    """`queue`, unless not `work_queue`, and its archive (declared with `arguments`) holding
    `count` failed messages, whose ids are 0 to count - 1, message n with the headers of
    FAILURE updated with failure(n)."""
    archived = f"{queue}.archive"
    broker.queues.append(archived)
    if work_queue:
        broker.channel.queue_declare(queue)
    broker.channel.queue_declare(archived, durable=arguments is not None, arguments=arguments)
    for n in range(count):
        broker.publish(
            archived,
            {"id": n},
            message_id=f"m{n}",
            content_type="application/json",
            headers={**FAILURE, **ORIGIN, "tenant": "acme", **failure(n)},
        )
    return archived
