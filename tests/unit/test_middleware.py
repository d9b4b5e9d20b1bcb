"""Middleware hooks around the dispatch path, on the channel double: called in order with the
right arguments; one that raises is logged and the daemon carries on."""

import logging

import gevent
import pytest

from amqpdispatcher.interruption import Interrupted
from amqpdispatcher.middleware import Hooks, Middleware

from .rig import settle


class Recorder(Middleware):
    """Notes every hook called on it, with its arguments, in `log`, shared between recorders."""

    def __init__(self, name: str, log: list) -> None:
        self.name = name
        self.log = log

    def before_consume(self, consumer, instance, message):
        self.log.append((self.name, "before_consume", consumer, instance, message))

    def after_consume(self, consumer, instance, message, answer, exception):
        self.log.append(
            (self.name, "after_consume", consumer, instance, message, answer, exception)
        )

    def after_instance_replaced(self, consumer, old, new, exception):
        self.log.append((self.name, "after_instance_replaced", consumer, old, new, exception))

    def before_shutdown(self):
        self.log.append((self.name, "before_shutdown", gevent.getcurrent()))


def test_the_consume_hooks_are_called_in_order_around_the_call(rig):
    log = []
    pool = rig(middleware=[Recorder("a", log), Recorder("b", log)])
    pool.deliver()
    settle()
    (instance,) = pool.created
    message = log[0][4]
    assert message.delivery_info["delivery_tag"] == 1
    assert log == [
        ("a", "before_consume", pool.spec, instance, message),
        ("b", "before_consume", pool.spec, instance, message),
        ("a", "after_consume", pool.spec, instance, message, "ack", None),
        ("b", "after_consume", pool.spec, instance, message, "ack", None),
    ]


def test_a_failed_call_reports_its_answer_and_exception_then_the_replacement(rig):
    log = []
    error = ValueError("bad message")

    def consume(amqp, message):
        raise error

    pool = rig(consume=consume, middleware=[Recorder("a", log)])
    pool.deliver()
    settle()
    (old,) = pool.created
    pool.deliver()
    settle()
    new = pool.calls[1].instance
    assert new is not old
    message = log[0][4]
    assert log[:3] == [
        ("a", "before_consume", pool.spec, old, message),
        ("a", "after_consume", pool.spec, old, message, "reject", error),
        ("a", "after_instance_replaced", pool.spec, old, new, error),
    ]
    assert old.shutdowns == [error]


def test_after_consume_sees_the_consumers_own_answer(rig):
    log = []
    pool = rig(consume=lambda amqp, message: amqp.nack(), middleware=[Recorder("a", log)])
    pool.deliver()
    settle()
    assert log[-1][5:] == ("nack", None)


class Raises(Middleware):
    def __init__(self, hook: str) -> None:
        setattr(self, hook, self.fail)

    def fail(self, *args):
        raise RuntimeError("middleware bug")


@pytest.mark.parametrize("hook", ["before_consume", "after_consume"])
def test_a_hook_that_raises_is_logged_and_the_daemon_carries_on(rig, caplog, hook):
    log = []
    pool = rig(middleware=[Raises(hook), Recorder("later", log)], count=1)
    pool.deliver(2)
    settle()
    assert pool.consumed == [1, 2]
    assert pool.channel.answers == {1: "ack", 2: "ack"}
    assert [entry[1] for entry in log] == ["before_consume", "after_consume"] * 2
    failures = [r for r in caplog.records if r.name == "amqp-dispatcher.middleware"]
    assert [r.getMessage() for r in failures] == [
        f"middleware Raises.{hook} raised; carrying on"
    ] * 2
    assert all(r.levelno == logging.ERROR and r.exc_info for r in failures)


def test_interrupted_passes_through_the_hooks():
    log = []

    class Interrupts(Middleware):
        def before_shutdown(self):
            raise Interrupted

    hooks = Hooks([Interrupts(), Recorder("later", log)])
    with pytest.raises(Interrupted):
        hooks("before_shutdown")
    assert log == []


def test_hooks_are_false_without_middleware():
    assert not Hooks()
    assert Hooks([Middleware()])


def test_hooks_called_from_the_hub_run_in_a_greenlet_of_their_own():
    log = []
    hooks = Hooks([Recorder("a", log)])
    hub = gevent.get_hub()
    hub.loop.run_callback(hooks, "before_shutdown")
    settle()
    [(_, _, where)] = log
    assert isinstance(where, gevent.Greenlet)
    assert where is not hub


def test_a_middleware_that_overrides_one_hook_needs_no_others(rig, caplog):
    seen = []

    class OneHook(Middleware):
        def after_consume(self, consumer, instance, message, answer, exception):
            seen.append(answer)

    def consume(amqp, message):
        if amqp.delivery_tag == 1:
            raise ValueError

    pool = rig(consume=consume, middleware=[OneHook()])
    pool.deliver(2)
    settle()
    assert seen == ["reject", "ack"]
    assert not [r for r in caplog.records if r.name == "amqp-dispatcher.middleware"]
