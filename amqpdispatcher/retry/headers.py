"""The headers the daemon sets on a message it retries or archives."""

RETRY_COUNT = "x-retry-count"  # retries so far: absent on the first delivery, 1 on the first retry
EXCEPTION_TYPE = "x-exception-type"
EXCEPTION_MESSAGE = "x-exception-message"
FAILED_AT = "x-failed-at"  # ISO 8601, UTC
ORIGINAL_EXCHANGE = "x-original-exchange"
ORIGINAL_ROUTING_KEY = "x-original-routing-key"
ORIGINAL_USER_ID = "x-original-user-id"  # the user_id, which the broker takes from its user only
COPY_REFUSED = "x-copy-refused"  # why the broker refused the full copy: this one is minimal
DROPPED_HEADERS = "x-dropped-headers"  # the message's own headers left out, to fit a frame

# What replay removes: the failure, and the count, so that the message starts afresh. The
# original exchange and routing key stay, for the next archiving to report them.
FAILURE_HEADERS = (RETRY_COUNT, EXCEPTION_TYPE, EXCEPTION_MESSAGE, FAILED_AT, COPY_REFUSED)
# The broker's account of the dead-lettering out of the delay queues, which replay removes too.
DEATH_HEADERS = (
    "x-death",
    "x-first-death-exchange",
    "x-first-death-queue",
    "x-first-death-reason",
    "x-last-death-exchange",
    "x-last-death-queue",
    "x-last-death-reason",
)
