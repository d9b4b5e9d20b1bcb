"""time_limit against the broker: a consume call past it is interrupted and its message failed,
requeued or retried and archived by the entry's policy, on the loop and in a thread; a
subscription the broker cancels is counted, and consumes again."""

from daemons import consumer_config
from nodes import free_port
from test_daemon import started
from test_executors import threaded
from test_http import samples
from test_retry import archived, assert_all_empty, retry_config, retry_counts
from waiting import wait_for

LIMIT = 0.3  # seconds; the calls it interrupts would run for FOREVER
FOREVER = 3600


def limited(config: dict, **keys) -> dict:
    config["consumers"][0].update(time_limit=LIMIT, **keys)
    return config


def done_ids(daemon) -> list:
    return [record["id"] for record in daemon.records("done")]


def warned(queue: str, tag: int) -> str:
    return (
        f"consumers[0]: scripted:Scripted on '{queue}': delivery {tag} ran past its time_limit "
        f"of {LIMIT}s; interrupted, and handled as a failure"
    )


def test_a_call_past_the_limit_is_requeued_and_consumed_again_by_a_new_instance(
    broker, daemon_factory
):
    queue, port = broker.queue_name(), free_port()
    config = limited(consumer_config(queue))
    daemon = daemon_factory(config).start("--http-port", str(port)).wait_ready()
    broker.publish(queue, {"id": "slow", "do": [["first-time", ["sleep", FOREVER]]]})
    broker.publish(queue, {"id": "quick"})
    wait_for(lambda: sorted(done_ids(daemon)) == ["quick", "slow"], what="both done")
    labels = (("consumer", "scripted:Scripted"), ("queue", queue))
    limits = ("amqp_dispatcher_time_limits_total", labels)
    wait_for(lambda: samples(port)[limits] == 1, what="the time limit counted")
    assert samples(port)[("amqp_dispatcher_consume_errors_total", labels)] == 1
    assert daemon.stop() == 0
    slow = [r for r in daemon.records("consume") if r["id"] == "slow"]
    assert [r["delivery_info"]["redelivered"] for r in slow] == [False, True]
    assert [r["instance"] for r in slow] == [1, 2]  # the interrupted instance replaced
    shutdowns = daemon.records("shutdown")
    assert shutdowns[0]["instance"] == 1
    assert "TimeLimitExceeded" in shutdowns[0]["exception"]
    assert warned(queue, 1) in daemon.log()
    assert [r["id"] for r in daemon.records("consume")].count("quick") == 1
    assert broker.messages(queue) == 0


def test_with_retry_a_call_past_the_limit_is_retried_then_archived_naming_it(
    broker, daemon_factory
):
    config, queue = retry_config(broker, {"max_retries": 1, "backoff": [0.3]})
    daemon = started(daemon_factory, limited(config))
    broker.publish(queue, {"id": "hangs", "do": [["sleep", FOREVER]]})
    _, properties, _ = archived(broker, queue)
    assert retry_counts(daemon) == [None, 1]  # came back from the delay queue once
    assert properties.headers["x-exception-type"] == "TimeLimitExceeded"
    assert properties.headers["x-exception-message"] == (
        f"consume ran past its time_limit of {LIMIT}s"
    )
    assert not daemon.records("done")
    assert_all_empty(broker, daemon, queue)


def test_a_thread_past_the_limit_runs_on_and_its_late_ack_reaches_nothing(
    broker, daemon_factory, tmp_path
):
    queue, go = broker.queue_name(), tmp_path / "go"
    daemon = started(daemon_factory, limited(threaded(consumer_config(queue)), threads=2))
    broker.publish(
        queue, {"id": 1, "do": [["first-time", ["block-until-file", str(go)]], "try-ack"]}
    )
    wait_for(lambda: daemon.records("done"), what="the redelivery done by a new instance")
    log = daemon.log()
    assert warned(queue, 1) in log
    assert "delivery 1: its consume call still runs in its thread" in log
    assert "an instance not shut down: its interrupted consume call still runs in a thread" in log
    go.touch()  # the first call goes on, to its ack
    (raised,) = wait_for(lambda: daemon.records("ack-raised"), what="the late ack")
    assert raised["error"] == "Interrupted"
    assert broker.messages(queue) == 0
    assert daemon.stop() == 0
    consumed = daemon.records("consume")
    assert [(r["instance"], r["delivery_info"]["redelivered"]) for r in consumed] == [
        (1, False),
        (2, True),
    ]
    assert [r["instance"] for r in daemon.records("shutdown")] == [2]  # 1 never, at the stop
    assert "closed the channel" not in daemon.log()  # no second answer for the message


def test_a_cancelled_consumer_is_counted_and_consumes_again(broker, daemon_factory):
    queue, port = broker.queue_name(), free_port()
    daemon = daemon_factory(consumer_config(queue)).start("--http-port", str(port)).wait_ready()
    labels = (("consumer", "scripted:Scripted"), ("queue", queue))
    cancellations = ("amqp_dispatcher_consumer_cancellations_total", labels)
    assert samples(port)[cancellations] == 0
    broker.channel.queue_delete(queue)
    wait_for(lambda: samples(port)[cancellations] == 1, what="the cancellation counted")
    wait_for(lambda: broker.consumers(queue) == 1, what="the queue declared again, consumed")
    broker.publish(queue, {"id": "after"})
    wait_for(lambda: done_ids(daemon) == ["after"], what="the message after the cancel")
    assert samples(port)[("amqp_dispatcher_time_limits_total", labels)] == 0
    assert daemon.stop() == 0
    assert broker.messages(queue) == 0
