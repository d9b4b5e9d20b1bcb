"""Which failure policy a consumers entry of the config gets."""

from __future__ import annotations

from ..config import ConsumerSpec
from ..middleware import Hooks
from .policy import FailurePolicy
from .retry import RetryPolicy


def policy_for(consumer: ConsumerSpec, default: FailurePolicy, hooks: Hooks) -> FailurePolicy:
    """A RetryPolicy from the entry's `retry` block, telling `hooks` of its copies; `default`
    for an entry without one."""
    return RetryPolicy.for_consumer(consumer, hooks) if consumer.retry else default
