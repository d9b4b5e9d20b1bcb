"""What AMQP and RabbitMQ take, for the config, the command line, the URL and the transport to
check against alike. Standard library only: .ci/ensure-broker loads url.py before any dependency
is installed."""

import re

MAX_SHORTSTR = 255  # bytes: AMQP's short strings, for names, routing keys and table keys
MAX_PORT = 65535
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
UINT32_MAX = 2**32 - 1
# A plain decimal number in ASCII digits: a number of seconds given as text.
DECIMAL = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")
