"""The dispatch path on the channel double: each delivery consumed once, in a greenlet with an
idle instance, the rest in the backlog; the answer by default, the consumer's own, and the
failure policy's when consume raises; stopping and interrupting."""

import logging

import gevent
import pytest
from gevent.event import Event
from greenlet import GreenletExit

from amqpdispatcher.failure import AnswerLater, FailurePolicy

from .rig import settle


def test_each_delivery_is_consumed_once_in_a_greenlet_of_its_instance(rig):
    pool = rig(count=3)
    tags = pool.deliver(3)
    settle()
    assert sorted(pool.consumed) == tags
    greenlets = {call.greenlet for call in pool.calls}
    assert len(greenlets) == 3
    assert gevent.get_hub() not in greenlets
    assert gevent.getcurrent() not in greenlets
    assert {call.instance for call in pool.calls} == set(pool.created)
    assert not pool.dispatch.busy


def test_no_more_calls_run_at_once_than_there_are_instances(rig):
    gate = Event()
    running, most = [0], [0]

    def consume(amqp, message):
        running[0] += 1
        most[0] = max(most[0], running[0])
        gate.wait()
        running[0] -= 1

    pool = rig(consume=consume, count=2)
    pool.deliver(5)
    settle()
    assert pool.consumed == [1, 2]
    assert pool.dispatch.busy
    gate.set()
    settle()
    assert sorted(pool.consumed) == [1, 2, 3, 4, 5]
    assert most[0] == 2
    assert not pool.dispatch.busy
    assert pool.channel.answers == dict.fromkeys([1, 2, 3, 4, 5], "ack")


def test_the_backlog_is_taken_in_delivery_order(rig):
    gate = Event()
    pool = rig(consume=lambda amqp, message: gate.wait(), count=1)
    pool.deliver(4)
    settle()
    assert pool.consumed == [1]
    gate.set()
    settle()
    assert pool.consumed == [1, 2, 3, 4]
    assert {call.instance for call in pool.calls} == set(pool.created)


def test_a_message_consume_leaves_unanswered_is_acked(rig):
    pool = rig(count=2)
    pool.deliver(3)
    settle()
    assert pool.channel.answers == dict.fromkeys([1, 2, 3], "ack")


ANSWERS = pytest.mark.parametrize(
    "answer, expected",
    [
        (lambda amqp: amqp.ack(), "ack"),
        (lambda amqp: amqp.nack(), "nack requeue"),
        (lambda amqp: amqp.nack(requeue=False), "nack"),
        (lambda amqp: amqp.reject(), "reject requeue"),
        (lambda amqp: amqp.reject(requeue=False), "reject"),
    ],
    ids=["ack", "nack", "nack-no-requeue", "reject", "reject-no-requeue"],
)


@ANSWERS
def test_the_consumers_own_answer_stands(rig, answer, expected):
    pool = rig(consume=lambda amqp, message: answer(amqp))
    pool.deliver()
    settle()
    assert pool.channel.answers == {1: expected}
    assert len(pool.channel.sent) == 1


class Broken(Exception):
    pass


def fail_on(*tags: int):
    """A consume that raises Broken for the deliveries `tags`, and returns for the others."""

    def consume(amqp, message):
        if amqp.delivery_tag in tags:
            raise Broken(amqp.delivery_tag)

    return consume


def test_a_consume_that_raises_has_its_message_requeued_and_its_instance_replaced(rig, caplog):
    pool = rig(consume=fail_on(1))
    pool.deliver()
    settle()
    (first,) = pool.created
    (exception,) = first.shutdowns
    assert isinstance(exception, Broken)
    assert pool.channel.answers == {1: "reject requeue"}
    assert "raised on queue 'q', delivery 1" in caplog.text
    pool.deliver()
    settle()
    assert pool.consumed == [1, 2]
    assert pool.calls[1].instance is not first
    assert pool.channel.answers == {1: "reject requeue", 2: "ack"}


@pytest.mark.parametrize(
    "error",
    [SystemExit(3), gevent.Timeout(), GreenletExit()],
    ids=lambda error: type(error).__name__,
)
def test_base_exceptions_from_consume_are_failures_of_the_message(rig, error):
    def consume(amqp, message):
        raise error

    pool = rig(consume=consume)
    pool.deliver()
    settle()
    assert pool.channel.answers == {1: "reject requeue"}
    assert pool.created[0].shutdowns == [error]
    assert not pool.dispatch.busy


class NackAndKeep(FailurePolicy):
    def __init__(self) -> None:
        self.seen: list[tuple] = []

    def answer(self, amqp, message, exception):
        self.seen.append((amqp.delivery_tag, message.delivery_info["delivery_tag"], exception))
        amqp.nack(requeue=False)

    def replaces_instance(self, exception):
        return False


def test_a_failure_policy_answers_and_keeps_the_instance(rig):
    policy = NackAndKeep()
    pool = rig(consume=fail_on(1), policy=policy)
    pool.deliver(2)
    settle()
    (first,) = pool.created
    assert pool.channel.answers == {1: "nack", 2: "ack"}
    [(tag, message_tag, exception)] = policy.seen
    assert (tag, message_tag) == (1, 1)
    assert isinstance(exception, Broken)
    assert first.shutdowns == []
    assert [call.instance for call in pool.calls] == [first, first]


def test_the_policy_does_not_answer_what_consume_answered_before_raising(rig):
    policy = NackAndKeep()

    def consume(amqp, message):
        amqp.ack()
        raise Broken

    pool = rig(consume=consume, policy=policy)
    pool.deliver()
    settle()
    assert pool.channel.answers == {1: "ack"}
    assert policy.seen == []
    assert pool.created[0].shutdowns == []


class RaisesInAnswer(NackAndKeep):
    def answer(self, amqp, message, exception):
        raise RuntimeError("policy bug")


class LeavesUnanswered(NackAndKeep):
    def answer(self, amqp, message, exception):
        pass


class RaisesInReplaces(NackAndKeep):
    def replaces_instance(self, exception):
        raise RuntimeError("policy bug")


@pytest.mark.parametrize("policy", [RaisesInAnswer, LeavesUnanswered, RaisesInReplaces])
def test_a_policy_that_fails_has_the_message_requeued_and_the_instance_replaced(rig, policy):
    pool = rig(consume=fail_on(1), policy=policy())
    pool.deliver(2)
    settle()
    first = pool.created[0]
    expected = "nack" if policy is RaisesInReplaces else "reject requeue"  # answered before
    assert pool.channel.answers == {1: expected, 2: "ack"}
    assert len(first.shutdowns) == 1
    assert pool.calls[1].instance is not first


def test_stop_leaves_the_backlog_unanswered(rig):
    gate = Event()
    pool = rig(consume=lambda amqp, message: gate.wait())
    pool.deliver(3)
    settle()
    pool.dispatch.stop()
    pool.deliver()
    gate.set()
    settle()
    assert pool.consumed == [1]
    assert pool.channel.answers == {1: "ack"}
    assert not pool.dispatch.busy


def test_interrupt_kills_the_running_calls_and_leaves_their_messages_unanswered(rig, caplog):
    never = Event()
    pool = rig(consume=lambda amqp, message: never.wait(), count=2)
    pool.deliver(2)
    settle()
    assert pool.dispatch.busy
    pool.dispatch.interrupt("after the grace period")
    settle()
    assert not pool.dispatch.busy
    assert pool.consumed == [1, 2]
    assert pool.channel.sent == []
    assert [instance.shutdowns for instance in pool.created] == [[], []]
    assert (
        "2 consume calls still running after the grace period, of deliveries 1, 2; interrupted"
        in caplog.text
    )


def test_interrupt_with_nothing_running_says_nothing(rig, caplog):
    pool = rig()
    pool.dispatch.interrupt("after the grace period")
    assert caplog.records == []


def test_the_deliveries_of_a_closed_channel_are_skipped_unanswered(rig, caplog):
    caplog.set_level(logging.INFO, "amqp-dispatcher.pool")
    gate = Event()
    pool = rig(consume=lambda amqp, message: gate.wait())
    pool.deliver(3)
    settle()
    pool.channel.close()
    gate.set()
    settle()
    assert pool.consumed == [1]  # 2 and 3 waited in the backlog
    assert pool.channel.sent == []
    assert "cannot ack" not in caplog.text  # not even tried: the broker delivers it again
    assert not pool.dispatch.busy


def test_a_delivery_to_an_idle_instance_is_skipped_if_its_channel_closed_meanwhile(rig):
    pool = rig()
    pool.deliver()
    gevent.get_hub().loop.run_callback(pool.channel.close)  # after the hand-off, before the call
    settle()
    assert pool.consumed == []
    assert not pool.dispatch.busy
    pool.channel.is_open = True  # the instance went back to idle: it takes the next delivery
    pool.deliver()
    settle()
    assert pool.consumed == [2]


class RetryQueue(FailurePolicy):
    """Publishes the message to a retry queue, then acks it."""

    def answer(self, amqp, message, exception):
        amqp.publish("", "q.retry", {"error": repr(exception)}, message.body)
        amqp.ack()

    def replaces_instance(self, exception):
        return False


def test_a_failure_policy_may_publish_before_it_answers(rig):
    pool = rig(consume=fail_on(1), policy=RetryQueue())
    pool.deliver()
    settle()
    [published] = pool.publisher.published
    assert (published.routing_key, published.properties) == (
        "q.retry",
        {"headers": {"error": "Broken(1)"}},
    )
    assert pool.channel.answers == {1: "ack"}


def test_an_instance_keeps_its_worker_greenlet_from_one_delivery_to_the_next(rig):
    pool = rig(count=2)
    pool.deliver(2)
    settle()
    pool.deliver(2)
    settle()
    workers = {call.instance: call.greenlet for call in pool.calls[:2]}
    assert len(set(workers.values())) == 2
    assert all(workers[call.instance] is call.greenlet for call in pool.calls[2:])


def test_an_idle_worker_outlives_what_is_thrown_into_it(rig, monkeypatch):
    pool = rig()
    pool.deliver()
    settle()
    (worker,) = {call.greenlet for call in pool.calls}
    reported = []
    monkeypatch.setattr(gevent.get_hub(), "handle_error", lambda *args: reported.append(args))
    thrown = RuntimeError("as from a timer a consume call left running")
    gevent.kill(worker, thrown)
    settle()
    assert [(args[0], args[2]) for args in reported] == [(worker, thrown)]
    pool.deliver()
    settle()
    assert pool.consumed == [1, 2]
    assert pool.calls[1].greenlet is worker


def test_an_idle_worker_woken_by_something_else_than_a_delivery_waits_on(rig, caplog):
    pool = rig()
    pool.deliver()
    settle()
    (worker,) = {call.greenlet for call in pool.calls}
    gevent.get_hub().loop.run_callback(worker.switch, "stray")
    settle()
    assert "an idle worker was woken with 'stray'; ignored" in caplog.text
    pool.deliver()
    settle()
    assert pool.consumed == [1, 2]
    assert pool.channel.answers == {1: "ack", 2: "ack"}


class LaterTwice(FailurePolicy):
    """Cannot answer twice, then acks."""

    def __init__(self) -> None:
        self.tries = 0

    def answer(self, amqp, message, exception) -> None:
        self.tries += 1
        if self.tries <= 2:
            raise AnswerLater("no connection to publish on")
        amqp.ack()

    def replaces_instance(self, exception) -> bool:
        return False


def failing(amqp, message) -> None:
    raise RuntimeError("boom")


def test_a_policy_that_answers_later_is_asked_again_after_a_pause_the_message_unacked(
    rig, monkeypatch, caplog
):
    caplog.set_level(logging.INFO, "amqp-dispatcher.pool")
    pauses = []
    monkeypatch.setattr("amqpdispatcher.failure.settle.FIRST_PAUSE", 0.001)
    policy = LaterTwice()
    pool = rig(consume=failing, policy=policy)
    original = pool.dispatch._pause
    monkeypatch.setattr(pool.dispatch, "_pause", lambda s: pauses.append(s) or original(s))
    pool.deliver(1)
    gevent.wait(timeout=5)  # until the pauses are over and the ack sent
    assert policy.tries == 3
    assert len(pauses) == 2
    assert pool.channel.answers == {1: "ack"}
    assert caplog.text.count("delivery 1 cannot be answered yet: no connection to publish on") == 1
    assert "delivery 1 answered after all: ack" in caplog.text


def test_the_stop_ends_a_pause_leaving_the_message_unanswered(rig):
    policy = LaterTwice()
    pool = rig(consume=failing, policy=policy)
    pool.deliver(1)
    settle()
    assert pool.dispatch.busy  # paused, a second away from asking again
    pool.dispatch.stop()
    settle()
    assert not pool.dispatch.busy
    assert policy.tries == 1
    assert pool.channel.sent == []
