"""Consumer instances: created at the start or a PoolError naming the YAML path, replaced with
retries when creating one fails, shut down at the end."""

import dataclasses
import itertools

import gevent
import pytest

from amqpdispatcher import backoff
from amqpdispatcher.instances import Instances, PoolError
from amqpdispatcher.interruption import Interrupted
from amqpdispatcher.middleware import Hooks, Middleware

from .rig import consumer_spec


class Consumer:
    """Raises from __init__ what `failures` holds, one per attempt, then is created; raises
    from shutdown what `shutdown_error` holds."""

    failures: list[BaseException] = []
    shutdown_error: BaseException | None = None

    def __init__(self) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.shutdowns: list[BaseException | None] = []

    def shutdown(self, exception: BaseException | None) -> None:
        self.shutdowns.append(exception)
        if self.shutdown_error is not None:
            raise self.shutdown_error


@pytest.fixture
def consumer_class(monkeypatch) -> type:
    """A Consumer subclass of the test's own, with no delay between attempts to create one."""
    monkeypatch.setattr(backoff, "delays", lambda first, cap=backoff.CAP: itertools.repeat(0.0))
    return type("Consumer", (Consumer,), {"failures": []})


def test_create_all_makes_consumer_count_instances(consumer_class):
    created = Instances(consumer_spec(3), consumer_class, Hooks()).create_all()
    assert len(set(created)) == 3
    assert all(isinstance(instance, consumer_class) for instance in created)


@pytest.mark.parametrize(
    "error, shown",
    [(ValueError("no settings"), "ValueError('no settings')"), (SystemExit(2), "SystemExit(2)")],
)
def test_an_instance_that_cannot_be_created_at_the_start_is_a_pool_error(
    consumer_class, error, shown
):
    consumer_class.failures = [error]
    instances = Instances(consumer_spec(2), consumer_class, Hooks())
    with pytest.raises(PoolError) as raised:
        instances.create_all()
    assert str(raised.value) == f"consumers[0]: cannot create tests.unit:Consumer: {shown}"
    assert raised.value.names_yaml_paths


class WithOptions:
    def __init__(self, shop: str, tags: list) -> None:
        self.shop, self.tags = shop, tags


def test_each_instance_is_created_with_its_own_copy_of_the_options():
    spec = dataclasses.replace(consumer_spec(2), options={"shop": "north", "tags": ["a"]})
    first, second = Instances(spec, WithOptions, Hooks()).create_all()
    assert (first.shop, first.tags) == (second.shop, second.tags) == ("north", ["a"])
    first.tags.append("b")
    assert second.tags == ["a"]
    assert spec.options == {"shop": "north", "tags": ["a"]}


def test_keyboard_interrupt_in_init_is_not_a_pool_error(consumer_class):
    consumer_class.failures = [KeyboardInterrupt()]
    with pytest.raises(KeyboardInterrupt):
        Instances(consumer_spec(), consumer_class, Hooks()).create_all()


class Replacements(Middleware):
    def __init__(self) -> None:
        self.seen: list[tuple] = []

    def after_instance_replaced(self, consumer, old, new, exception):
        self.seen.append((consumer, old, new, exception))


def test_replace_shuts_the_instance_down_and_retries_creating_its_successor(consumer_class, caplog):
    middleware = Replacements()
    spec = consumer_spec()
    instances = Instances(spec, consumer_class, Hooks([middleware]))
    (old,) = instances.create_all()
    consumer_class.failures = [OSError("database down"), OSError("database still down")]
    error = ValueError("bad message")
    new = instances.replace(old, error)
    assert isinstance(new, consumer_class)
    assert new is not old
    assert old.shutdowns == [error]
    assert middleware.seen == [(spec, old, new, error)]
    retries = [r for r in caplog.records if r.getMessage().startswith("cannot create a new")]
    assert [r.exc_info[1].args for r in retries] == [("database down",), ("database still down",)]
    assert retries[0].getMessage() == "cannot create a new tests.unit:Consumer; retrying in 0.0s"


def test_retire_all_shuts_down_every_live_instance_each_in_a_greenlet(consumer_class):
    instances = Instances(consumer_spec(3), consumer_class, Hooks())
    created = instances.create_all()
    error = ValueError("bad message")
    new = instances.replace(created[0], error)
    tasks = instances.retire_all()
    assert len(tasks) == 3
    gevent.joinall(tasks, raise_error=True)
    assert created[0].shutdowns == [error]
    assert [instance.shutdowns for instance in (*created[1:], new)] == [[None]] * 3


@pytest.mark.parametrize("error", [RuntimeError("cannot close"), SystemExit(1)])
def test_a_shutdown_that_raises_is_logged(consumer_class, caplog, error):
    consumer_class.shutdown_error = error
    instances = Instances(consumer_spec(), consumer_class, Hooks())
    (instance,) = instances.create_all()
    instances.retire(instance, None)
    [record] = caplog.records
    assert (record.name, record.getMessage()) == (
        "amqp-dispatcher.pool",
        "tests.unit:Consumer.shutdown raised",
    )
    assert record.exc_info[1] is error


def test_interrupted_passes_through_shutdown(consumer_class):
    consumer_class.shutdown_error = Interrupted()
    instances = Instances(consumer_spec(), consumer_class, Hooks())
    (instance,) = instances.create_all()
    with pytest.raises(Interrupted):
        instances.retire(instance, None)
