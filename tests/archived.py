"""The headers of a message the retry policy archived, for the replay tests."""

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
