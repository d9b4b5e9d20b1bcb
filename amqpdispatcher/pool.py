"""A pool of consumer instances serving one queue on one channel."""

from __future__ import annotations

import gevent

from .config import ConsumerSpec, QueueSpec
from .dispatch import Dispatch
from .executors import executor_for
from .failure import FailurePolicy
from .instances import Instances
from .middleware import Hooks
from .publisher import Publisher
from .subscription import Subscription
from .transport import Connection


class ConsumerPool:
    """`consumer_count` instances of one class (instances.py), fed the deliveries of their
    subscription (subscription.py) by the dispatch (dispatch.py). The instances outlive
    channels and connections."""

    def __init__(
        self,
        spec: ConsumerSpec,
        consumer_class: type,
        queue: QueueSpec | None,
        publisher: Publisher,
        failure_policy: FailurePolicy,
        hooks: Hooks,
    ) -> None:
        self._instances, self._dispatch = dispatch_path(
            spec, consumer_class, publisher, failure_policy, hooks
        )
        self._subscription = Subscription(spec, queue, self._dispatch.on_delivery, hooks)

    def create_instances(self) -> None:
        """Raises PoolError if one cannot be created."""
        create_idle(self._instances, self._dispatch)

    def attach(self, connection: Connection) -> None:
        """Consume on `connection`: BrokerRefusal if the broker refuses, AMQPError if the
        connection is lost."""
        self._subscription.attach(connection)

    def subscribe_later(self, reason: str) -> None:
        """Subscribe again in the background, with backoff, after the broker refused it."""
        self._subscription.recover(reason)

    def cancel(self) -> None:
        """Stop taking deliveries; those received but not started stay unanswered and go back
        to the queue when the channel closes."""
        self._dispatch.stop()
        self._subscription.cancel()

    @property
    def busy(self) -> bool:
        """Whether a `consume` call is still running."""
        return self._dispatch.busy

    def interrupt(self, why: str) -> None:
        """Kill the running `consume` calls; their messages stay unanswered."""
        self._dispatch.interrupt(why)

    def flush(self) -> None:
        """Send the acks held back for coalescing; before the connection closes."""
        self._subscription.flush()

    def retire_instances(self) -> list[gevent.Greenlet]:
        """shutdown(None) on every instance, each in a greenlet of its own, for the caller to
        wait for; the channel closes with the connection."""
        return self._instances.retire_all()


def dispatch_path(
    spec: ConsumerSpec,
    consumer_class: type,
    publisher: Publisher,
    failure_policy: FailurePolicy,
    hooks: Hooks,
) -> tuple[Instances, Dispatch]:
    """A pool's instances and the dispatch that hands them its deliveries; the unit tests' rig
    wires its pool here too, fed by a channel double instead of a subscription."""
    executor = executor_for(spec)
    instances = Instances(spec, consumer_class, hooks, executor)
    return instances, Dispatch(spec, instances, publisher, failure_policy, hooks, executor)


def create_idle(instances: Instances, dispatch: Dispatch) -> list:
    """`consumer_count` new instances, each idle in `dispatch` until its first delivery; raises
    PoolError if one cannot be created."""
    created = instances.create_all()
    dispatch.add_idle(created)
    return created
