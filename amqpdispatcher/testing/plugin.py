"""The pytest plugin of amqp-dispatcher, loaded through its `pytest11` entry point: the test
helpers as fixtures."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from . import FakeAMQP, make_message, run_consumer


@pytest.fixture
def amqp() -> FakeAMQP:
    """A fresh `amqp` object, to pass to run_consumer or to a consumer's consume."""
    return FakeAMQP()


@pytest.fixture(name="make_message")
def make_message_fixture() -> Callable[..., object]:
    """amqpdispatcher.testing.make_message."""
    return make_message


@pytest.fixture(name="run_consumer")
def run_consumer_fixture() -> Callable[..., object]:
    """amqpdispatcher.testing.run_consumer."""
    return run_consumer
