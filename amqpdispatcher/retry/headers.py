"""The headers the daemon sets on a message it retries or archives."""

RETRY_COUNT = "x-retry-count"  # retries so far: absent on the first delivery, 1 on the first retry
EXCEPTION_TYPE = "x-exception-type"
EXCEPTION_MESSAGE = "x-exception-message"
FAILED_AT = "x-failed-at"  # ISO 8601, UTC
ORIGINAL_EXCHANGE = "x-original-exchange"
ORIGINAL_ROUTING_KEY = "x-original-routing-key"

# What replay removes: the failure, and the count, so that the message starts afresh. The
# original exchange and routing key stay, for the next archiving to report them.
FAILURE_HEADERS = (RETRY_COUNT, EXCEPTION_TYPE, EXCEPTION_MESSAGE, FAILED_AT)
