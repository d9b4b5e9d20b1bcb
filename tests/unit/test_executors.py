"""executor: thread on the channel double: consume, the constructor and shutdown run in the
entry's threads while the loop goes on; the amqp calls made from a thread are marshalled to
the loop and answer or raise as on the loop; a failure reaches the failure policy; the stop
interrupts the waiting greenlet, and the thread's later calls reach nothing."""

import contextvars
import threading

import gevent
import pytest
from greenlet import GreenletExit
from waiting import wait_for

from amqpdispatcher import AlreadyAnswered, PublishError
from amqpdispatcher.interruption import Interrupted
from amqpdispatcher.middleware import Middleware

from .rig import settle
from .test_dispatch import ANSWERS, Broken, fail_on

LOOP = threading.get_ident()


def finished(pool) -> None:
    """Let the loop turn until no consume call runs: the threads done, their answers sent."""
    settle()
    wait_for(lambda: not pool.dispatch.busy, what="the consume calls")
    settle()


def test_consume_runs_in_a_thread_while_the_loop_goes_on(rig):
    released = threading.Event()  # of the OS: set from the loop while the thread waits on it

    def consume(amqp, message):
        assert released.wait(timeout=20), "the loop did not run while consume blocked"

    pool = rig(consume=consume, count=2, threads=2)
    pool.deliver(2)
    wait_for(lambda: len(pool.calls) == 2, what="both calls to start")
    gevent.spawn(released.set).join()  # a greenlet runs while both threads block
    finished(pool)
    threads = {call.thread for call in pool.calls}
    assert len(threads) == 2 and LOOP not in threads
    assert pool.channel.answers == {1: "ack", 2: "ack"}


def test_the_threads_bound_the_calls_running_at_once(rig):
    release = threading.Event()
    running, most = [0], [0]
    lock = threading.Lock()

    def consume(amqp, message):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        release.wait(timeout=20)
        with lock:
            running[0] -= 1

    pool = rig(consume=consume, count=3, threads=1)
    pool.deliver(3)
    wait_for(lambda: pool.calls, what="the first call")
    release.set()
    finished(pool)
    assert most[0] == 1
    assert pool.consumed == [1, 2, 3]


def test_the_constructor_and_shutdown_run_in_the_threads(rig):
    pool = rig(consume=fail_on(1), threads=1)
    pool.deliver()
    finished(pool)
    (first,) = pool.created
    assert isinstance(first.shutdowns[0], Broken)
    assert LOOP not in first.threads
    assert pool.channel.answers == {1: "reject requeue"}


@ANSWERS
def test_answers_from_a_thread_reach_the_channel_once(rig, answer, expected):
    raised = []

    def consume(amqp, message):
        answer(amqp)
        try:
            amqp.ack()
        except AlreadyAnswered as exc:
            raised.append(exc)

    pool = rig(consume=consume, threads=1)
    pool.deliver()
    finished(pool)
    assert pool.channel.answers == {1: expected}
    assert len(pool.channel.sent) == 1
    assert [str(exc) for exc in raised] == [
        f"delivery 1 was already answered with {expected.split()[0]}"
    ]


def test_publishes_from_a_thread_run_on_the_loop(rig):
    where = []

    def consume(amqp, message):
        amqp.publish("x", "k", {"h": 1}, "body")
        amqp.publish_json("x", "j", {"n": 1})

    pool = rig(consume=consume, threads=1)
    publish = pool.publisher.publish

    def recorded(*args, **kwargs):
        where.append(threading.get_ident())
        publish(*args, **kwargs)

    pool.publisher.publish = recorded
    pool.deliver()
    finished(pool)
    assert [p.routing_key for p in pool.publisher.published] == ["k", "j"]
    assert pool.publisher.published[1].body == b'{"n":1}'
    assert where == [LOOP, LOOP]
    assert pool.channel.answers == {1: "ack"}


def test_a_failed_publish_raises_in_the_thread(rig):
    raised = []

    def consume(amqp, message):
        try:
            amqp.publish("x", "k", body="b")
        except PublishError as exc:
            raised.append((exc, threading.get_ident()))
        amqp.reject()

    pool = rig(consume=consume, threads=1)
    pool.publisher.error = PublishError("nacked by the broker")
    pool.deliver()
    finished(pool)
    [(exception, thread)] = raised
    assert str(exception) == "nacked by the broker" and thread != LOOP
    assert pool.channel.answers == {1: "reject requeue"}


@pytest.mark.parametrize(
    "error", [Broken(1), SystemExit(3), GreenletExit()], ids=lambda error: type(error).__name__
)
def test_what_a_thread_raises_reaches_the_failure_policy(rig, caplog, error):
    def consume(amqp, message):
        raise error

    pool = rig(consume=consume, threads=1)
    pool.deliver()
    finished(pool)
    assert pool.channel.answers == {1: "reject requeue"}
    assert pool.created[0].shutdowns == [error]
    assert "raised on queue 'q', delivery 1" in caplog.text
    pool.deliver()
    finished(pool)
    assert pool.calls[1].instance is not pool.created[0]


def test_the_stop_interrupts_the_wait_and_the_threads_later_calls_reach_nothing(rig, caplog):
    blocked, release, after = threading.Event(), threading.Event(), []

    def consume(amqp, message):
        blocked.set()
        release.wait(timeout=20)
        for call in (amqp.ack, lambda: amqp.publish("x", "k")):
            try:
                call()
            except Interrupted as exc:
                after.append(str(exc))

    pool = rig(consume=consume, count=1, threads=1)
    pool.deliver()
    wait_for(blocked.is_set, what="the call to start")
    pool.dispatch.interrupt("after the grace period")
    settle()
    assert not pool.dispatch.busy
    assert "1 consume call still running after the grace period" in caplog.text
    gevent.joinall(pool.instances.retire_all())
    assert (
        "an instance not shut down: its interrupted consume call still runs in a thread"
        in caplog.text
    )
    release.set()
    wait_for(lambda: len(after) == 2, what="the thread's later calls")
    settle()
    assert pool.channel.sent == []
    assert pool.publisher.published == []
    assert pool.created[0].shutdowns == []  # not even at the stop, while its thread runs on
    assert after[0] == (
        "delivery 1: its consume call was interrupted, or has ended; the amqp object no longer "
        "answers or publishes"
    )


def test_the_consume_context_reaches_the_thread_and_its_amqp_calls(rig):
    """What middleware sets in the consume call's contextvars context, as the JSON log context
    and the trace's span are, holds in the thread and in the publish it marshals to the loop."""
    current: contextvars.ContextVar[int | None] = contextvars.ContextVar("current", default=None)
    seen = {}

    class Setting(Middleware):
        def before_consume(self, consumer, instance, message) -> None:
            current.set(message.delivery_info["delivery_tag"])

    def consume(amqp, message):
        seen["thread"] = current.get(), threading.get_ident() != LOOP
        amqp.publish("", "elsewhere", body=b"x")

    pool = rig(consume=consume, threads=1, middleware=[Setting()])
    publish = pool.publisher.publish

    def publishing(*args, **kwargs):
        seen["publish"] = current.get(), threading.get_ident() == LOOP
        publish(*args, **kwargs)

    pool.publisher.publish = publishing
    (tag,) = pool.deliver()
    finished(pool)
    assert seen == {"thread": (tag, True), "publish": (tag, True)}
    assert current.get() is None  # the loop's own context is left as it was
