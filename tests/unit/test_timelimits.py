"""time_limit on the channel double: a consume call past it is interrupted and failed, on the
loop and in a thread; calls under it, and entries without one, are left alone."""

import contextlib
import threading

import gevent
from waiting import wait_for

from amqpdispatcher import RetryPolicy, TimeLimitExceeded
from amqpdispatcher.interruption import Interrupted
from amqpdispatcher.middleware.metrics import Metrics
from amqpdispatcher.timelimits import limited

from .rig import consumer_spec, settle

FOREVER = 3600  # seconds: longer than any test waits


def hangs_on(*tags: int):
    """A consume that sleeps, yielding, for the deliveries `tags`, and returns for the others;
    it swallows every Exception, which the time limit is not."""

    def consume(amqp, message):
        if amqp.delivery_tag in tags:
            with contextlib.suppress(Exception):
                gevent.sleep(FOREVER)

    return consume


def test_an_entry_without_a_limit_runs_the_executor_s_consume_itself():
    def consume(instance, amqp, message):
        return None

    assert limited(consumer_spec(), consume) is consume


def test_a_call_past_the_limit_is_failed_and_its_instance_replaced(rig, caplog):
    pool = rig(consume=hangs_on(1), time_limit=0.05)
    pool.deliver(2)
    wait_for(lambda: pool.channel.answers == {1: "reject requeue", 2: "ack"}, what="answers")
    (first,) = pool.created
    (exception,) = first.shutdowns
    assert isinstance(exception, TimeLimitExceeded)
    assert str(exception) == "consume ran past its time_limit of 0.05s"
    assert [call.instance is first for call in pool.calls] == [True, False]  # replaced
    assert (
        "consumers[0]: tests.unit:Consumer on 'q': delivery 1 ran past its time_limit of 0.05s; "
        "interrupted, and handled as a failure" in caplog.text
    )


def test_an_archived_copy_names_the_time_limit_as_the_failure(rig):
    policy = RetryPolicy("q", max_retries=0, backoff=(5,))
    pool = rig(consume=hangs_on(1), time_limit=0.05, policy=policy)
    pool.deliver()
    (copy,) = wait_for(lambda: pool.publisher.published, what="the archived copy")
    assert copy.routing_key == "q.archive"
    assert copy.headers["x-exception-type"] == "TimeLimitExceeded"
    assert copy.headers["x-exception-message"] == "consume ran past its time_limit of 0.05s"
    wait_for(lambda: pool.channel.answers == {1: "ack"}, what="the ack, once the copy is sent")


def test_time_limits_are_counted(rig):
    metrics = Metrics([consumer_spec(time_limit=0.05)])
    pool = rig(consume=hangs_on(1), time_limit=0.05, middleware=[metrics])
    pool.deliver(2)
    wait_for(lambda: len(pool.channel.answers) == 2, what="both answers")
    (counted,) = metrics.pools
    assert (counted.time_limits, counted.consume_errors) == (1, 1)


def test_a_thread_past_the_limit_runs_on_unshut_and_answers_nothing(rig, caplog):
    release = threading.Event()
    later: list[str] = []

    def consume(amqp, message):
        if amqp.delivery_tag == 1:
            release.wait(timeout=FOREVER)
            try:
                amqp.ack()
            except Interrupted as exc:
                later.append(type(exc).__name__)

    pool = rig(consume=consume, count=1, threads=2, time_limit=0.05)
    pool.deliver(2)
    wait_for(lambda: pool.channel.answers == {1: "reject requeue", 2: "ack"}, what="answers")
    (first,) = pool.created
    assert first.shutdowns == []  # not shut down while its thread runs
    assert "delivery 1: its consume call still runs in its thread" in caplog.text
    assert "an instance not shut down" in caplog.text
    release.set()
    wait_for(lambda: later, what="the thread's late ack")
    settle()
    assert later == ["Interrupted"]
    assert pool.channel.answers == {1: "reject requeue", 2: "ack"}  # nothing more sent
    executor = pool.instances._shut_down.__self__  # the entry's ThreadExecutor
    wait_for(lambda: not executor._left_running, what="the instance let go once its thread ended")
