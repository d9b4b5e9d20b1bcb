"""The broker's delivery acknowledgement timeout (RabbitMQ's consumer_timeout): when a delivery
goes unanswered past it, the broker closes the channel; the daemon says so in one ERROR line
naming the consumer, the queue and the setting to raise, and consumes again."""

import contextlib
import re
from collections.abc import Iterator

from daemons import consumer_config, with_middleware
from nodes import free_port
from test_http import samples
from test_middleware import hooks
from waiting import wait_for

# RabbitMQ 3.10 checks the deliveries of a channel about once a minute, whatever the timeout.
CHECK_WAIT = 150.0


@contextlib.contextmanager
def consumer_timeout(node, milliseconds: int) -> Iterator[None]:
    """The node's consumer_timeout for the block; channels opened meanwhile take it."""
    before = node.rabbitmqctl("eval", "application:get_env(rabbit, consumer_timeout).").strip()
    node.rabbitmqctl("eval", f"application:set_env(rabbit, consumer_timeout, {milliseconds}).")
    try:
        yield
    finally:
        value = re.fullmatch(r"\{ok,(\d+)\}", before)
        if value:
            node.rabbitmqctl(
                "eval", f"application:set_env(rabbit, consumer_timeout, {value.group(1)})."
            )
        else:
            node.rabbitmqctl("eval", "application:unset_env(rabbit, consumer_timeout).")


def test_a_delivery_past_the_consumer_timeout_is_told_once_and_consumed_again(
    node, node_broker, daemon_factory, tmp_path
):
    """Takes about a minute: RabbitMQ 3.10 checks the timeout about once a minute."""
    queue, go = node_broker.queue_name(), tmp_path / "go"
    config = with_middleware(consumer_config(queue, durable=True), "middlewares:Recording")
    with consumer_timeout(node, 5000):
        daemon = daemon_factory(config, node=node).start().wait_ready()
        node_broker.publish(queue, {"id": 1, "do": [["await-file", str(go)], "ack"]})
        wait_for(lambda: daemon.records("consume"), what="the first delivery")
        wait_for(lambda: " ERROR " in daemon.log(), CHECK_WAIT, "the channel closed by the broker")
        wait_for(lambda: daemon.log().count("consuming ") == 2, what="subscribed again")
        wait_for(lambda: node_broker.consumers(queue) == 1, what="the broker's new consumer")
        go.touch()
        wait_for(lambda: len(daemon.records("done")) == 2, what="the redelivery consumed")
        assert daemon.stop() == 0

    first, again = daemon.records("consume")
    assert (first["id"], first["delivery_info"]["redelivered"]) == (1, False)
    assert (again["id"], again["delivery_info"]["redelivered"]) == (1, True)
    assert node_broker.messages(queue) == 0  # acked: nothing came back at the stop
    (error,) = [line for line in daemon.log().splitlines() if " ERROR " in line]
    assert f"consumers[0] (scripted:Scripted): a delivery from '{queue}'" in error
    assert "PRECONDITION_FAILED - delivery acknowledgement on channel" in error
    assert "raise RabbitMQ's consumer_timeout" in error
    assert "subscribing again" in error
    assert " WARNING " not in daemon.log()  # the error says it all
    # The overrunning call's ack, sent after the channel closed, is logged at INFO.
    assert f"cannot ack delivery 1 of '{queue}'" in daemon.log()
    reasons = [r["reason"] for r in hooks(daemon, "after_consuming_stopped")]
    assert len(reasons) == 2 and reasons[1] == "the daemon is stopping"
    assert reasons[0].startswith("consumer_timeout: PRECONDITION_FAILED - delivery ")
    assert len(hooks(daemon, "after_consuming_started")) == 2


def test_a_call_that_fails_past_the_consumer_timeout_is_not_copied_nor_counted(
    node, node_broker, daemon_factory, tmp_path
):
    """Its channel is gone and the broker delivers the message again: a retry copy too would
    have it handled once more, and an answer counted would never have reached the broker."""
    queue, go, port = node_broker.queue_name(), tmp_path / "go", free_port()
    labels = (("consumer", "scripted:Scripted"), ("queue", queue))
    config = consumer_config(queue)
    config["consumers"][0]["retry"] = {"max_retries": 3, "backoff": [0.1]}
    config["http"] = {"port": port}
    node_broker.queues.extend([f"{queue}.delay.0.1s", f"{queue}.archive"])
    with consumer_timeout(node, 5000):
        daemon = daemon_factory(config, node=node).start().wait_ready()
        node_broker.publish(queue, {"id": 1, "do": [["await-file", str(go)], "raise-once"]})
        wait_for(lambda: daemon.records("consume"), what="the first delivery")
        wait_for(lambda: " ERROR " in daemon.log(), CHECK_WAIT, "the channel closed by the broker")
        wait_for(lambda: node_broker.consumers(queue) == 1, what="the broker's new consumer")
        go.touch()
        wait_for(lambda: len(daemon.records("done")) == 1, what="the redelivery consumed")
        acked = ("amqp_dispatcher_answers_total", (("answer", "ack"), *labels))
        # Scrapes follow the worker within half a second: the ack is counted after the rest.
        metrics = wait_for(lambda: (seen := samples(port)).get(acked) and seen, what="the ack")
        assert daemon.stop() == 0

    first, again = daemon.records("consume")
    assert (first["delivery_info"]["redelivered"], again["delivery_info"]["redelivered"]) == (
        False,
        True,
    )
    assert "x-retry-count" not in again["headers"]  # the broker's redelivery, not a retry copy
    assert metrics[acked] == 1
    assert metrics[("amqp_dispatcher_retries_total", labels)] == 0
    for name in (queue, f"{queue}.delay.0.1s", f"{queue}.archive"):
        assert node_broker.messages(name) == 0, name
