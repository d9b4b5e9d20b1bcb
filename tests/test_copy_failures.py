"""A failed message whose retry or archive copy the broker would not take as it is: the copy is
made to fit, or replaced by a minimal one, or waited for; never does the message loop back to
its queue at full speed. Each test: the message at fault, then five behind it, which must all be
handled; the message at fault consumed at most max_retries + 1 times, and kept."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import quote

from brokers import Broker
from daemons import consumer_config
from nodes import Node, free_port
from raw_properties import RawProperties, Single
from test_http import get
from waiting import wait_for

MAX_RETRIES = 1
BEHIND = 5
LOG_BOUND = 1_000_000  # characters: a loop logs hundreds of megabytes in seconds


def retrying(broker: Broker, count: int = 1, prefetch: int = 1) -> tuple[dict, str]:
    queue = broker.queue_name("copies")
    config = consumer_config(queue, count=count, prefetch=prefetch)
    config["consumers"][0]["retry"] = {"max_retries": MAX_RETRIES, "backoff": [0.1]}
    broker.queues.extend([f"{queue}.delay.0.1s", f"{queue}.archive"])
    return config, queue


def publish_behind(broker: Broker, queue: str) -> None:
    broker.publish_many(queue, [{"id": f"behind-{n}"} for n in range(BEHIND)])


def assert_handled(broker: Broker, daemon, queue: str) -> tuple:
    """The messages behind all done, the one at fault consumed a bounded number of times and
    archived; returns its archived copy."""
    wait_for(lambda: broker.messages(f"{queue}.archive") == 1, what="the message archived")
    wait_for(lambda: len(daemon.records("done")) == BEHIND, what="the messages behind it")
    assert daemon.stop() == 0
    faulty = [r for r in daemon.records("consume") if r["id"] == "faulty"]
    assert 1 <= len(faulty) <= MAX_RETRIES + 1
    assert len(daemon.log()) < LOG_BOUND
    assert broker.messages(queue) == 0
    (archived,) = broker.get_all(f"{queue}.archive")
    return archived


def test_headers_near_the_frame_size_are_left_out_of_the_copy(broker, daemon_factory):
    config, queue = retrying(broker)
    daemon = daemon_factory(config).start().wait_ready()
    frame_max = broker.connection._impl.params.frame_max
    big = "b" * (frame_max - 20 - 16 - 40)  # within 40 bytes of the largest properties allowed
    work = json.dumps({"id": "faulty", "do": ["raise"]})
    broker.publish(queue, work, headers={"big": big}, message_id="m-big")
    publish_behind(broker, queue)
    _, properties, _ = assert_handled(broker, daemon, queue)
    assert properties.message_id == "m-big"
    assert "big" not in properties.headers
    assert properties.headers["x-dropped-headers"] == "big"
    assert properties.headers["x-retry-count"] == MAX_RETRIES


def test_a_double_header_too_large_for_an_integer_is_sent_again_as_text(broker, daemon_factory):
    """1e19, written as a double by another client (as Node's amqplib does): read by pika as an
    int, it was too large to be written again, and the copy could never be sent. The consumer
    sees the doubles and floats as floats; the copy carries them as decimals or text."""
    config, queue = retrying(broker)
    daemon = daemon_factory(config).start().wait_ready()
    headers = {"huge": 1e19, "ratio": 0.25, "nested": {"single": Single(1.5)}}
    body = json.dumps({"id": "faulty", "do": ["raise"]})
    broker.channel.basic_publish("", queue, body, RawProperties(headers))
    publish_behind(broker, queue)
    _, properties, _ = assert_handled(broker, daemon, queue)
    seen = [r["headers"] for r in daemon.records("consume") if r["id"] == "faulty"][0]
    assert seen == headers  # floats, as written: pika alone would give 10**19, 0 and 1
    assert properties.headers["huge"] == "1e+19"
    assert properties.headers["ratio"] == Decimal("0.25")
    assert properties.headers["nested"] == {"single": Decimal("1.5")}


def test_a_long_exception_type_and_message_are_cut_to_fit(broker, daemon_factory):
    config, queue = retrying(broker)
    daemon = daemon_factory(config).start().wait_ready()
    broker.publish(queue, {"id": "faulty", "do": [["raise-named", 200_000, "é" * 20_000]]})
    publish_behind(broker, queue)
    _, properties, _ = assert_handled(broker, daemon, queue)
    assert properties.headers["x-exception-type"] == "E" * 252 + "..."
    assert len(properties.headers["x-exception-message"].encode()) <= 1000


def test_a_copy_the_broker_refuses_gives_way_to_a_minimal_one(broker, daemon_factory):
    """The delay queue deleted behind the daemon's back: the retry copy is unroutable."""
    config, queue = retrying(broker)
    daemon = daemon_factory(config).start().wait_ready()
    broker.channel.queue_delete(f"{queue}.delay.0.1s")
    broker.publish(queue, {"id": "faulty", "do": ["raise"]}, headers={"tenant": "north"})
    publish_behind(broker, queue)
    _, properties, body = assert_handled(broker, daemon, queue)
    assert json.loads(body)["id"] == "faulty"
    assert properties.headers["x-copy-refused"] == (
        f"'{queue}.delay.0.1s': unroutable: NO_ROUTE (312)"
    )
    assert properties.headers["x-exception-type"] == "RuntimeError"
    assert "tenant" not in properties.headers
    assert daemon.log().count("archiving a minimal copy") == 1


def test_a_user_id_of_another_user_moves_into_a_header(node, node_broker, daemon_factory):
    """The broker takes a user_id only from the user publishing it: a copy keeping it would be
    refused, and the channel closed, each time."""
    user = node_broker.queue_name("user")
    node.rabbitmqctl("add_user", user, "secret")
    try:
        node.rabbitmqctl("set_permissions", user, ".*", ".*", ".*")
        config, queue = retrying(node_broker)
        daemon = daemon_factory(config, node=node).start().wait_ready()
        url = f"amqp://{quote(user)}:secret@127.0.0.1:{node.amqp_port}/"
        with Broker(Node(url)) as theirs:
            work = json.dumps({"id": "faulty", "do": ["raise"]})
            theirs.publish(queue, work, user_id=user)
        publish_behind(node_broker, queue)
        _, properties, _ = assert_handled(node_broker, daemon, queue)
    finally:
        node.rabbitmqctl("delete_user", user)
    assert properties.user_id is None
    assert properties.headers["x-original-user-id"] == user
    assert "PRECONDITION_FAILED" not in daemon.log()


def test_without_a_publishing_connection_the_message_waits_unacked(
    node, node_broker, daemon_factory
):
    """The vhost takes one connection: the daemon's consuming one. The copy waits, the message
    unacked and its instance paused, while the other instance handles the rest; once the
    limit goes, the copy is published."""
    vhost = node_broker.queue_name("vhost")
    node.rabbitmqctl("add_vhost", vhost)
    try:
        node.rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        node.rabbitmqctl("set_vhost_limits", "-p", vhost, '{"max-connections": 1}')
        in_vhost = Node(f"{node.url}{quote(vhost, safe='')}")
        with Broker(in_vhost) as broker:
            config, queue = retrying(broker, count=2, prefetch=2)
            broker.channel.queue_declare(queue, durable=False)  # before the daemon's connection
            broker.publish(queue, {"id": "faulty", "do": ["raise"]})
            publish_behind(broker, queue)
            broker.connection.close()
            daemon = daemon_factory(config, node=in_vhost).start().wait_ready()
            wait_for(lambda: len(daemon.records("done")) == BEHIND, what="the messages behind")
            wait_for(lambda: "cannot be answered yet" in daemon.log(), what="the copy waiting")
            assert len([r for r in daemon.records("consume") if r["id"] == "faulty"]) == 1
            node.rabbitmqctl("clear_vhost_limits", "-p", vhost)
            broker.reconnect()
            archived = assert_handled(broker, daemon, queue)
    finally:
        node.rabbitmqctl("delete_vhost", vhost)
    assert json.loads(archived[2])["id"] == "faulty"
    assert daemon.log().count("cannot be answered yet") == 1


@contextlib.contextmanager
def memory_alarm(node) -> Iterator[None]:
    """The node's memory alarm raised for the block: it blocks every connection that publishes.
    The node raises and clears it at its next memory check, once the watermark is set."""
    node.rabbitmqctl("set_vm_memory_high_watermark", "absolute", "1")
    try:
        wait_for(lambda: memory_alarmed(node), what="the memory alarm")
        yield
    finally:
        node.rabbitmqctl("set_vm_memory_high_watermark", "0.4")
        wait_for(lambda: not memory_alarmed(node), what="the memory alarm cleared")


def memory_alarmed(node) -> bool:
    return "memory" in node.rabbitmqctl("eval", "rabbit_alarm:get_alarms().")


def test_while_the_broker_blocks_publishing_copies_wait_unsent(
    node, node_broker, daemon_factory, tmp_path
):
    """The broker blocks a connection at its first publish once the alarm is on: from then on,
    the daemon is not ready, and its copies wait unsent, so that none can arrive later beside
    the message delivered again; the stop keeps to its grace period, not waiting for a reply
    the broker cannot send."""
    config, queue = retrying(node_broker, count=20, prefetch=20)
    config["consumers"][0]["retry"]["max_retries"] = 0  # each failure archived at once
    port, first, rest = free_port(), tmp_path / "first", tmp_path / "rest"
    config["http"] = {"port": port}
    daemon = daemon_factory(config, node=node).start("--shutdown-timeout", "2").wait_ready()
    archive = f"{queue}.archive"
    node_broker.publish(queue, {"id": "opener", "do": ["raise"]})  # the publishing connection
    wait_for(lambda: node_broker.messages(archive) == 1, what="the first archived")
    node_broker.publish(queue, {"id": 0, "do": [["await-file", str(first)], "raise"]})
    waiting = [{"id": n, "do": [["await-file", str(rest)], "raise"]} for n in range(1, 20)]
    node_broker.publish_many(queue, waiting)
    wait_for(lambda: len(daemon.records("consume")) == 21, what="20 calls waiting")
    with memory_alarm(node):
        first.touch()  # its copy is the first publish: the broker blocks the connection
        status, body = wait_for(
            lambda: (reply := get(port, "/readyz"))[0] == 503 and reply, what="not ready"
        )
        assert json.loads(body)["workers"]["1"]["publishing_blocked"] is True
        rest.touch()
        wait_for(lambda: daemon.log().count("archiving it") == 21, what="20 more failures")
        assert daemon.stop() == 0
    log = daemon.log()
    assert "consume calls still running after the 2s grace period" in log
    assert "closing the blocked connection" in log
    assert "no reply to closing" not in log
    node_broker.reconnect()
    again = daemon_factory(config, node=node).start().wait_ready()
    wait_for(lambda: node_broker.messages(queue) == 0, what="the queue emptied")
    assert again.stop() == 0
    assert node_broker.messages(archive) == 21  # not one more


def test_a_typo_in_an_exchange_name_fails_those_publishes_alone(broker, daemon_factory):
    """Ten orders published on to an exchange that does not exist, ten on to one that does, at
    once: each of the first fails alone, is retried once and archived; nothing doubles."""
    config, queue = retrying(broker, count=10, prefetch=10)
    out, missing = broker.queue_name("out"), broker.exchange_name("typo")
    config["queues"].append({"queue": out, "durable": False})
    daemon = daemon_factory(config).start().wait_ready()
    works = []
    for n in range(10):
        works.append({"id": f"typo-{n}", "do": [["publish", missing, out, "x"]]})
        works.append({"id": f"good-{n}", "do": [["publish", "", out, "x"]]})
    broker.publish_many(queue, works)
    wait_for(lambda: broker.messages(f"{queue}.archive") == 10, what="the typos archived")
    wait_for(lambda: len(daemon.records("done")) == 10, what="the good ones")
    assert daemon.stop() == 0
    consumed = [r["id"] for r in daemon.records("consume")]
    assert len(consumed) == 10 * (MAX_RETRIES + 1) + 10
    assert broker.messages(out) == 10
    assert broker.messages(f"{queue}.archive") == 10
    assert "the broker closed a publishing channel" not in daemon.log()
