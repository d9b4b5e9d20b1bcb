"""Middleware named in the YAML, run by the daemon against the real broker: every hook at its
moment, with its arguments; a hook that raises costs nothing but a log line. A middleware
that cannot be loaded or created is tests/unit/test_middleware_loading.py's."""

from daemons import consumer_config, daemon_connection, with_middleware
from test_daemon import started
from waiting import wait_for


def hooks(daemon, name: str | None = None) -> list[dict]:
    return [r for r in daemon.records("hook") if name is None or r["hook"] == name]


def test_every_hook_is_called_at_its_moment(broker, daemon_factory):
    queue = broker.queue_name()
    config = with_middleware(consumer_config(queue), "middlewares:Recording")
    daemon = started(daemon_factory, config)
    wait_for(lambda: hooks(daemon, "after_consuming_started"), what="consuming started")
    broker.publish(queue, {"id": 1})
    broker.publish(queue, {"id": 2, "do": ["nack-drop"]})
    broker.publish(queue, {"id": 3, "do": ["raise-once"]})
    wait_for(lambda: len(hooks(daemon, "after_consume")) == 4, what="four consume calls")
    assert daemon.stop() == 0

    consumed = [(r["id"], r["answer"], r["exception"]) for r in hooks(daemon, "after_consume")]
    assert consumed == [
        (1, "ack", None),
        (2, "nack", None),
        (3, "reject", "RuntimeError"),  # the failure policy: rejected with requeue
        (3, "ack", None),  # the redelivery, to the new instance
    ]
    assert [r["id"] for r in hooks(daemon, "before_consume")] == [1, 2, 3, 3]
    (replaced,) = hooks(daemon, "after_instance_replaced")
    assert (replaced["old"], replaced["new"], replaced["exception"]) == (1, 2, "RuntimeError")
    names = [r["hook"] for r in hooks(daemon) if "consume" not in r["hook"]]
    assert names[:2] == ["after_connection_opened", "after_consuming_started"]
    assert names[-3:] == ["after_instance_replaced", "before_shutdown", "after_consuming_stopped"]
    assert hooks(daemon, "after_consuming_stopped")[0]["reason"] == "the daemon is stopping"


def test_a_lost_connection_is_told_and_consuming_starts_again(node_broker, daemon_factory):
    queue = node_broker.queue_name()
    config = with_middleware(consumer_config(queue), "middlewares:Recording")
    daemon = started(daemon_factory, config, node_broker.node)
    node_broker.node.close_connection(daemon_connection(daemon)[0])
    wait_for(lambda: daemon.log().count("ready:") == 2, what="reconnection")
    wait_for(lambda: len(hooks(daemon, "after_consuming_started")) == 2, what="consuming again")
    assert daemon.stop() == 0
    names = [r["hook"] for r in hooks(daemon)]
    assert names[:2] == ["after_connection_opened", "after_consuming_started"]
    # Told in either order: the channel closes with the connection.
    assert set(names[2:4]) == {"after_consuming_stopped", "after_connection_lost"}
    assert names[4:] == [
        "after_connection_opened",
        "after_consuming_started",
        "before_shutdown",
        "after_consuming_stopped",
    ]


def test_a_channel_closed_by_the_broker_stops_and_starts_consuming(broker, daemon_factory):
    queue = broker.queue_name()
    config = with_middleware(consumer_config(queue), "middlewares:Recording")
    daemon = started(daemon_factory, config)
    broker.publish(queue, {"id": "bug", "do": ["bad-ack-once"]})
    wait_for(lambda: len(hooks(daemon, "after_consuming_started")) == 2, what="consuming again")
    assert daemon.stop() == 0
    stopped = hooks(daemon, "after_consuming_stopped")
    assert "PRECONDITION_FAILED - unknown delivery tag" in stopped[0]["reason"]
    assert hooks(daemon, "after_connection_lost") == []


def test_hooks_that_raise_are_logged_and_lose_nothing(broker, daemon_factory):
    queue = broker.queue_name()
    config = with_middleware(consumer_config(queue), "middlewares:Raising", "middlewares:Recording")
    daemon = started(daemon_factory, config)
    broker.publish(queue, {"id": 1})
    broker.publish(queue, {"id": 2, "do": ["raise-once"]})
    wait_for(lambda: len(daemon.records("done")) == 2, what="both consumed")
    assert daemon.stop() == 0
    log = daemon.log()
    for hook in ("before_consume", "after_consume", "after_instance_replaced", "before_shutdown"):
        assert f"middleware Raising.{hook} raised; carrying on" in log
    # The middleware after it is still called, and every message is answered.
    assert [r["id"] for r in hooks(daemon, "after_consume")] == [1, 2, 2]
    assert broker.messages(queue) == 0
