"""The probe each copy of a failed message waits for before it is sent.

The broker blocks a connection (an alarm) only at its first publish after the alarm, and a
publish sent then waits in the connection, unconfirmed, until the alarm clears, even past the
publisher's stop. So a copy goes only after a probe, to no queue, sent after the copy was asked
for and confirmed by the broker, the connection not blocked meanwhile: a copy must never arrive
late beside the message it copies, left unacked and delivered again.

One probe is in flight at a time, and the copies asked for meanwhile share the next one: each
still waits for a probe sent after it was asked for, and a burst of failures costs a probe per
round trip to the broker, not one per copy."""

from __future__ import annotations

import gevent.lock

from .transport import Channel, outgoing

PROBE = outgoing("", "", b"", {})


class Probes:
    """For one channel."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._one_at_a_time = gevent.lock.Semaphore()
        self._sent = 0  # probes sent so far, numbered from 1
        self._confirmed = 0  # the number of the latest confirmed

    def await_one(self) -> None:
        """Until the broker confirmed a probe sent after this call. Raises as a publish."""
        asked = self._sent
        with self._one_at_a_time:
            if self._confirmed > asked:
                return
            self._sent += 1
            number = self._sent
            self._channel.publish(PROBE).get()
            self._confirmed = number
