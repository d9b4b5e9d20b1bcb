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
# The W3C trace context a producer sends, which every copy keeps (docs/tracing.rst).
TRACE_HEADERS = ("traceparent", "tracestate")
# The traceparent of the failed attempt a copy comes from, which its next attempt links to.
PREVIOUS_TRACEPARENT = "x-previous-traceparent"

# What replay removes: the failure, and the count, so that the message starts afresh. The
# original exchange and routing key stay, for the next archiving to report them; the trace
# headers too, the replayed attempt linking to the last one that failed.
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
