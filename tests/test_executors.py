"""executor: thread against the broker: a consumer that blocks in the unpatched time.sleep
stops the daemon's loop, and so its heartbeats, on the default executor, and stops nothing in a
thread; retries of a threaded consumer, and the stop. Confirmed publishes from a thread:
test_recovery.py."""

import re

from daemons import consumer_config, daemon_connection
from test_daemon import started
from test_retry import assert_all_empty, retry_config, retry_counts
from waiting import wait_for


def threaded(config: dict, index: int = 0, **keys) -> dict:
    config["consumers"][index].update(executor="thread", **keys)
    return config


def received_frames(node, name: str) -> int | None:
    """How many times the node has read from the connection named `name`, if it lists it."""
    columns = ("--no-table-headers", "recv_cnt", "client_properties")
    for line in node.rabbitmqctl("list_connections", *columns).splitlines():
        count, _, properties = line.partition("\t")
        if re.search(rf'"connection_name","{re.escape(name)}"', properties):
            return int(count)
    return None


def done(daemon, message_id) -> bool:
    return any(record["id"] == message_id for record in daemon.records("done"))


def test_a_consumer_blocking_in_c_on_the_loop_loses_the_connection(
    node, node_broker, daemon_factory, tmp_path
):
    """What executor: thread is for: on the default executor the blocked loop sends no
    heartbeat, the broker drops the connection, the message comes back."""
    queue, go = node_broker.queue_name(), tmp_path / "go"
    daemon = started(daemon_factory, consumer_config(queue), node, RABBITMQ_HEARTBEAT="1")
    name, _ = daemon_connection(daemon)
    node_broker.publish(queue, {"id": 1, "do": [["block-until-file", str(go)]]})
    wait_for(lambda: daemon.records("consume"), what="the blocking call")
    wait_for(lambda: received_frames(node, name) is None, what="the broker to drop the daemon")
    go.touch()
    wait_for(lambda: len(daemon.records("done")) == 2, what="the message, redelivered")
    assert daemon.stop() == 0
    warning = f"the event loop was blocked for more than 1.0s by scripted:Scripted on '{queue}'"
    assert warning in daemon.log()
    assert "lost the connection" in daemon.log()
    consumed = daemon.records("consume")
    assert [r["delivery_info"]["redelivered"] for r in consumed] == [False, True]
    assert consumed[0]["on_main_thread"]


def test_a_consumer_blocking_in_a_thread_stops_neither_heartbeats_nor_other_pools(
    node, node_broker, daemon_factory, tmp_path
):
    blocking, other, go = node_broker.queue_name(), node_broker.queue_name("other"), tmp_path / "go"
    config = threaded(consumer_config(blocking))
    config["queues"] += consumer_config(other)["queues"]
    config["consumers"] += consumer_config(other)["consumers"]
    daemon = started(daemon_factory, config, node, RABBITMQ_HEARTBEAT="1")
    name, _ = daemon_connection(daemon)
    node_broker.publish(blocking, {"id": 1, "do": [["block-until-file", str(go)]]})
    wait_for(lambda: daemon.records("consume"), what="the blocking call")
    # While the call blocks: the daemon's heartbeats reach the broker, beat after beat...
    before = received_frames(node, name)
    wait_for(lambda: (received_frames(node, name) or 0) >= before + 4, what="heartbeats")
    # ...and the other pool consumes.
    node_broker.publish(other, {"id": 2})
    wait_for(lambda: done(daemon, 2), what="the other pool's message")
    assert not done(daemon, 1)
    go.touch()
    wait_for(lambda: done(daemon, 1), what="the blocking call to return")
    assert daemon_connection(daemon)[0] == name  # the same connection throughout
    assert daemon.stop() == 0
    log = daemon.log()
    assert "lost the connection" not in log and "the event loop was blocked" not in log
    (first,) = [r for r in daemon.records("consume") if r["id"] == 1]
    assert not first["on_main_thread"]
    assert not first["delivery_info"]["redelivered"]
    assert node_broker.messages(blocking) == 0  # acked: nothing came back at the stop


def test_a_threaded_consumer_that_raises_is_retried(broker, daemon_factory):
    config, queue = retry_config(broker, {"max_retries": 3, "backoff": [0.3]})
    daemon = started(daemon_factory, threaded(config))
    broker.publish(queue, {"id": "flaky", "do": [["raise-below-retry", 2]]})
    wait_for(lambda: daemon.records("done"), what="the third delivery done")
    assert retry_counts(daemon) == [None, 1, 2]
    assert len(daemon.records("shutdown")) == 2  # the instance replaced after each failure
    assert not any(r["on_main_thread"] for r in daemon.records("consume"))
    assert_all_empty(broker, daemon, queue)


def test_the_stop_interrupts_a_blocked_thread_and_exits(broker, daemon_factory, tmp_path):
    queue, never = broker.queue_name(), tmp_path / "never"
    config = threaded(consumer_config(queue))
    daemon = daemon_factory(config).start("--shutdown-timeout", "1").wait_ready()
    broker.publish(queue, {"id": 1, "do": [["block-until-file", str(never)], "ack"]})
    wait_for(lambda: daemon.records("consume"), what="the blocking call")
    assert daemon.stop() == 0
    log = daemon.log()
    assert "1 consume call still running after the 1s grace period, of deliveries 1" in log
    assert "an instance not shut down: its interrupted consume call still runs in a thread" in log
    assert "killing" not in log and "Traceback" not in log and "shutdown() calls" not in log
    assert broker.messages(queue) == 1  # unanswered: back in the queue
