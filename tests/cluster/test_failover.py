"""A stream of messages on a quorum queue of the cluster, consumed by a daemon whose
RABBITMQ_URL lists the three nodes, while a node fails: stopped, killed, cut off from the
others. Each test ends with Stream.account(): none lost, duplicates only among messages in
flight at a fault; the failover times (fault to consuming again) go to the fault report."""

from __future__ import annotations

import pytest
from daemons import daemon_connection
from harness import Stream, stop

COUNT = 2000  # in two halves: the second published once the first fault is over


@pytest.fixture
def stream(cluster_broker, daemon_factory, request) -> Stream:
    """A quorum work queue with a dead-letter exchange, as a cluster's users would have it."""
    dead_letters = cluster_broker.exchange_name("dead")
    stream = Stream(
        cluster_broker,
        daemon_factory,
        fault=request.node.get_closest_marker("fault").args[0],
        count=COUNT,
        queue_keys={"x_queue_type": "quorum", "x_dead_letter_exchange": dead_letters},
    )
    stream.config["exchanges"] = [{"exchange": dead_letters, "type": "fanout"}]
    return stream


def daemon_node(cluster, daemon, other_than=None):
    """The node the daemon's connection is open on; after a fault, one other than the node
    that failed, once the daemon has connected again."""
    node = cluster.node_of_connection(daemon_connection(daemon)[0])
    assert node is not other_than
    return node


def first_half(stream: Stream, fault) -> None:
    """Half the stream published, a fifth of it processed, the fault, then the whole half."""
    stream.publish(0, COUNT // 2)
    stream.wait_processed(COUNT // 5)
    stream.inject(fault)
    stream.wait_processed(COUNT // 2, timeout=120)


def second_half(stream: Stream, fault) -> None:
    stream.broker.reconnect()  # its node may be the one the first fault hit
    stream.publish(COUNT // 2)
    stream.wait_processed(COUNT * 6 // 10)
    stream.inject(fault)
    stream.wait_processed(COUNT, timeout=120)


@pytest.mark.fault("cluster: stop the daemon's node (leader); boot it; stop the next")
def test_stop_the_leader_node_then_another(cluster, stream):
    daemon = stream.start()
    first = daemon_node(cluster, daemon)
    cluster.move_leader(stream.queue, first)
    first_half(stream, lambda: cluster.shut_down(first))
    second = daemon_node(cluster, daemon, other_than=first)
    cluster.boot(first)
    second_half(stream, lambda: cluster.shut_down(second))
    daemon_node(cluster, daemon, other_than=second)
    cluster.boot(second)
    stop(daemon)
    assert len(stream.account().failovers) == 2


@pytest.mark.fault("cluster: stop the daemon's node (follower); boot; kill -9 the next")
def test_stop_a_follower_node_then_kill_another(cluster, stream):
    daemon = stream.start()
    first = daemon_node(cluster, daemon)
    cluster.move_leader(stream.queue, next(n for n in cluster.nodes if n is not first))
    first_half(stream, lambda: cluster.shut_down(first))
    second = daemon_node(cluster, daemon, other_than=first)
    cluster.boot(first)
    second_half(stream, lambda: cluster.kill(second))
    daemon_node(cluster, daemon, other_than=second)
    cluster.boot(second)
    stop(daemon)
    assert len(stream.account().failovers) == 2


@pytest.mark.fault("cluster: cut the daemon's node off the others; mend; again")
def test_partition(cluster, stream):
    daemon = stream.start()
    first = daemon_node(cluster, daemon)
    first_half(stream, lambda: cluster.partition(first))
    second = daemon_node(cluster, daemon, other_than=first)
    cluster.mend(first)
    second_half(stream, lambda: cluster.partition(second))
    daemon_node(cluster, daemon, other_than=second)
    cluster.mend(second)
    stop(daemon)
    assert len(stream.account().failovers) == 2


@pytest.mark.fault("cluster: SIGSTOP the daemon's node (follower), heartbeat=2; twice")
def test_hang(cluster, stream):
    """Nothing closes the daemon's connection: it learns of the hang from missed heartbeats."""
    daemon = stream.start(RABBITMQ_HEARTBEAT="2")
    first = daemon_node(cluster, daemon)
    cluster.move_leader(stream.queue, next(n for n in cluster.nodes if n is not first))
    first_half(stream, lambda: cluster.hang(first))
    cluster.resume(first)  # before asking: rabbitmqctl waits for every node
    second = daemon_node(cluster, daemon, other_than=first)
    cluster.move_leader(stream.queue, next(n for n in cluster.nodes if n is not second))
    second_half(stream, lambda: cluster.hang(second))
    cluster.resume(second)
    daemon_node(cluster, daemon, other_than=second)
    stop(daemon)
    assert len(stream.account().failovers) == 2
