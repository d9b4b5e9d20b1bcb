"""The check of the dead-letter exchanges the config does not declare, after the topology is
declared: what each answer of the broker to the passive declare leads to."""

from __future__ import annotations

import logging

import pytest

from amqpdispatcher import topology
from amqpdispatcher.config import parse_config
from amqpdispatcher.errors import BrokerRefusal
from amqpdispatcher.transport import ChannelClosed


class StubChannel:
    """Takes every declaration; a passive exchange declare raises what `refusals` holds for
    that exchange."""

    def __init__(self, refusals: dict[str, ChannelClosed], checked: list[str]) -> None:
        self._refusals = refusals
        self._checked = checked
        self.closed = False

    def declare_exchange(self, name: str, exchange_type: str, passive: bool = False, **flags):
        if passive:
            self._checked.append(name)
            if name in self._refusals:
                raise self._refusals[name]

    def declare_queue(self, name: str, **flags) -> None:
        self._checked.append(f"queue {name}")
        if name in self._refusals:
            raise self._refusals[name]

    def bind_queue(self, queue: str, exchange: str, routing_key: str, arguments: dict) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class StubConnection:
    def __init__(self, refusals: dict[str, ChannelClosed]) -> None:
        self.refusals = refusals
        self.checked: list[str] = []
        self.channels: list[StubChannel] = []

    def channel(self) -> StubChannel:
        self.channels.append(StubChannel(self.refusals, self.checked))
        return self.channels[-1]


CONFIG = parse_config(
    {
        "exchanges": [{"exchange": "declared"}],
        "queues": [
            {"queue": "a", "x_dead_letter_exchange": "declared"},
            {"queue": "b", "x_dead_letter_exchange": "amq.fanout"},
            {"queue": "c", "x_dead_letter_exchange": "dlx", "bindings": [{"exchange": "events"}]},
        ],
        "consumers": [{"consumer": "m:C", "queue": "a"}],
    },
    "cfg.yaml",
    {},
)


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_only_undeclared_dead_letter_exchanges_are_checked_each_on_its_own_channel(caplog):
    connection = StubConnection({})
    topology.declare(connection, CONFIG)
    assert connection.checked == ["queue a", "queue b", "queue c", "dlx"]
    assert len(connection.channels) == 2
    assert all(channel.closed for channel in connection.channels)
    assert warnings(caplog) == []


def test_a_missing_one_is_warned_of(caplog):
    connection = StubConnection({"dlx": ChannelClosed(404, "NOT_FOUND - no exchange 'dlx'")})
    topology.declare(connection, CONFIG)
    assert warnings(caplog) == [
        "cfg.yaml: queues[2].x_dead_letter_exchange: dead-letter exchange 'dlx' does not exist:"
        " messages dead-lettered from queue 'c' (nack or reject without requeue, expiry,"
        " overflow) are dropped"
    ]


def test_another_refusal_is_logged_not_raised(caplog):
    connection = StubConnection({"dlx": ChannelClosed(403, "ACCESS_REFUSED - no access")})
    topology.declare(connection, CONFIG)
    assert warnings(caplog) == [
        "cfg.yaml: queues[2].x_dead_letter_exchange: cannot check that dead-letter exchange 'dlx'"
        " exists: ACCESS_REFUSED - no access (403)"
    ]


def test_a_lost_connection_passes_through():
    connection = StubConnection({"dlx": ChannelClosed(0, "connection lost")})
    with pytest.raises(ChannelClosed):
        topology.declare(connection, CONFIG)


RETRYING = parse_config(
    {
        "queues": [{"queue": "a"}],
        "consumers": [
            {"consumer": "m:C", "queue": "a", "retry": {"max_retries": 2, "backoff": [1, 5]}},
            {"consumer": "m:D", "queue": "a", "retry": {"max_retries": 1, "backoff": [1]}},
        ],
    },
    "cfg.yaml",
    {},
)


def test_the_retry_queues_are_declared_after_the_others_each_once():
    connection = StubConnection({})
    topology.declare(connection, RETRYING)
    assert connection.checked == [
        "queue a",
        "queue a.delay.1s",
        "queue a.delay.5s",
        "queue a.archive",
    ]


def test_a_refused_retry_queue_is_named_by_its_retry_block():
    refused = ChannelClosed(406, "PRECONDITION_FAILED - inequivalent arg 'x-message-ttl'")
    connection = StubConnection({"a.delay.5s": refused})
    with pytest.raises(BrokerRefusal) as info:
        topology.declare(connection, RETRYING)
    assert str(info.value).startswith("consumers[0].retry: queue 'a.delay.5s'")
