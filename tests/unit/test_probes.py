"""Each copy waits for a probe sent after it asked; copies asking while one is in flight share
the next."""

import gevent
import gevent.event
import pytest

from amqpdispatcher.probes import PROBE, Probes
from amqpdispatcher.transport import ChannelClosed


class ConfirmingChannel:
    """Each probe published waits in `in_flight` until the test confirms or fails it."""

    def __init__(self) -> None:
        self.in_flight: list[gevent.event.AsyncResult] = []
        self.published = 0

    def publish(self, message):
        assert message is PROBE
        self.published += 1
        result = gevent.event.AsyncResult()
        self.in_flight.append(result)
        return result

    def confirm(self) -> None:
        self.in_flight.pop(0).set(None)
        gevent.idle()


def waiting(probes: Probes, count: int) -> list[gevent.Greenlet]:
    copies = [gevent.spawn(probes.await_one) for _ in range(count)]
    gevent.idle()
    return copies


def test_a_copy_waits_for_the_confirm_of_a_probe_of_its_own():
    """The second copy asks once the first one's probe was confirmed: it sends another."""
    channel = ConfirmingChannel()
    probes = Probes(channel)
    for sent in (1, 2):
        (copy,) = waiting(probes, 1)
        assert channel.published == sent and not copy.ready()
        channel.confirm()
        assert copy.successful()


def test_copies_asking_while_a_probe_is_in_flight_share_the_next_one():
    channel = ConfirmingChannel()
    probes = Probes(channel)
    first = waiting(probes, 1)
    later = waiting(probes, 5)
    channel.confirm()  # the first copy's probe, sent before the others asked: not theirs
    assert all(copy.ready() for copy in first) and not any(copy.ready() for copy in later)
    assert channel.published == 2
    channel.confirm()
    assert all(copy.successful() for copy in later)
    assert channel.published == 2


def test_a_failed_probe_fails_its_sender_and_the_next_copy_probes_again():
    channel = ConfirmingChannel()
    probes = Probes(channel)
    first, second = waiting(probes, 2)
    channel.in_flight.pop(0).set_exception(ChannelClosed(0, "closed"))
    gevent.idle()
    with pytest.raises(ChannelClosed):
        first.get()
    assert not second.ready() and channel.published == 2
    channel.confirm()
    assert second.successful()
