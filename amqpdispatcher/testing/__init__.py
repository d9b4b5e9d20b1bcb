"""Helpers to unit-test a consumer class without a broker, following the daemon's own rules:
`make_message` builds the message the daemon hands over, `FakeAMQP` is the `amqp` object
that records what the consumer does, and `run_consumer` runs one consume call and says what
became of the message. The pytest plugin (amqpdispatcher.testing.plugin, loaded by pytest once
amqp-dispatcher is installed) offers the three as fixtures."""

from .fake_amqp import FakeAMQP, Published
from .messages import make_message
from .outcome import Outcome, run_consumer

__all__ = ["FakeAMQP", "Outcome", "Published", "make_message", "run_consumer"]
