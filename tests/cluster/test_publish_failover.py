"""Consumers that publish, confirmed (amqp.publish returns once the broker confirmed), while
the node of the daemon's publishing connection is stopped, then the node of its consuming
connection killed (kill -9): each publish in flight at a loss is either confirmed, and its
message is in its quorum queue afterwards, or raised to the consumer as a PublishError; none
silently dropped."""

from __future__ import annotations

import pytest
from daemons import daemon_connection, publishing_connection
from harness import Stream, stop

COUNT = 2000  # in two halves, a fault in each


@pytest.fixture
def target(cluster_broker) -> str:
    """The quorum queue the consumers publish to, each message's id as the body."""
    return cluster_broker.queue_name("published")


@pytest.fixture
def stream(cluster_broker, daemon_factory, target, request) -> Stream:
    stream = Stream(
        cluster_broker,
        daemon_factory,
        fault=request.node.get_closest_marker("fault").args[0],
        count=COUNT,
        work=lambda n: [["try-publish", "", target, str(n), False], ["sleep", 0.02]],
        queue_keys={"x_queue_type": "quorum"},
    )
    stream.config["queues"].append({"queue": target, "durable": True, "x_queue_type": "quorum"})
    return stream


@pytest.mark.fault("cluster publish: stop the publisher's node, kill -9 consumer's")
def test_each_publish_in_flight_at_a_loss_is_confirmed_or_raised(restored, stream, target):
    cluster, broker = restored, stream.broker
    daemon = stream.start()
    stream.publish(0, 1)  # the daemon's first publish opens its publishing connection
    stream.wait_processed(1)
    publishing = cluster.node_of_connection(publishing_connection(daemon))
    cluster.move_leader(target, publishing)
    took = [connections_on(cluster, daemon, publishing)]
    stream.run_half(1, COUNT // 2, lambda: cluster.shut_down(publishing))
    cluster.boot(publishing)
    consuming = cluster.node_of_connection(daemon_connection(daemon)[0])
    cluster.move_leader(target, consuming)
    took.append(connections_on(cluster, daemon, consuming))
    stream.run_half(COUNT // 2, COUNT, lambda: cluster.kill(consuming))
    assert cluster.node_of_connection(daemon_connection(daemon)[0]) is not consuming
    cluster.boot(consuming)
    stop(daemon)
    outcome = stream.account()
    confirmed = [r["id"] for r in stream.records("published")]
    raised = [r["id"] for r in stream.records("publish-error")]
    assert set(confirmed) | set(raised) == set(range(COUNT)), "each message's publish was tried"
    held = [int(body) for _, _, body in broker.get_all(target)]
    assert set(confirmed) <= set(held), "a confirmed message is in its queue"
    unconfirmed = set(raised) - set(confirmed)
    outcome.notes = (
        f"publishes: {len(confirmed)} confirmed, {len(raised)} raised (ids never confirmed: "
        f"{len(unconfirmed)}, of them in the queue all the same: {len(unconfirmed & set(held))}); "
        f"the queue holds {len(held)} messages, {len(held) - len(set(held))} duplicates, "
        f"no confirmed one missing; the daemon's connections on the lost nodes: "
        f"{took[0]}, then {took[1]}"
    )


def connections_on(cluster, daemon, node) -> str:
    """Which of the daemon's connections are on `node`."""
    names = {"consuming": daemon_connection(daemon)[0], "publishing": publishing_connection(daemon)}
    on = [what for what, name in names.items() if cluster.node_of_connection(name) is node]
    return " and ".join(on)
