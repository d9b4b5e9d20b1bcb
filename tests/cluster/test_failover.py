"""A stream of messages on a quorum queue of the cluster, consumed by a daemon whose
RABBITMQ_URL lists the three nodes, while a node fails: stopped, killed, cut off from the
others. Each test ends with Stream.account(): none lost, duplicates only among messages in
flight at a fault; the failover times (fault to consuming again) go to the fault report."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import pytest
from daemons import daemon_connection
from harness import Stream, stop
from waiting import wait_for

COUNT = 2000  # in two halves: the second published once the first fault is over


@pytest.fixture
def stream(restored, cluster_broker, daemon_factory, request) -> Stream:
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


@dataclass(frozen=True)
class Fault:
    inflict: str  # the Cluster method that fails the daemon's node
    repair: str  # the one that undoes it
    leader: bool | None = None  # the queue's leader moved to that node (True), away (False)
    # Repaired once the daemon consumes on another node, not once the half is processed. A
    # hung node still holds the channel of the daemon's lost connection, and its unacked
    # messages, until its peers find it gone, a minute later (net_ticktime): then it pauses
    # as a minority when it resumes.
    brief: bool = False

    def prepare(self, cluster, queue: str, node) -> None:
        if self.leader is not None:
            others = [other for other in cluster.nodes if other is not node]
            cluster.move_leader(queue, node if self.leader else others[0])


STOP_LEADER = Fault("shut_down", "boot", leader=True)
STOP_FOLLOWER = Fault("shut_down", "boot", leader=False)
STOP = Fault("shut_down", "boot")
KILL = Fault("kill", "boot")
PARTITION = Fault("partition", "mend")
HANG_FOLLOWER = Fault("hang", "resume", leader=False, brief=True)


def two_faults(cluster, stream: Stream, first: Fault, second: Fault, **env: str) -> None:
    """The stream in two halves, each with a fault of the node the daemon is on, repaired once
    the half is processed; the daemon on another node after each."""
    daemon = stream.start(**env)
    node = daemon_node(cluster, daemon)
    for first_id, fault in ((0, first), (COUNT // 2, second)):
        fault.prepare(cluster, stream.queue, node)
        last_id = first_id + COUNT // 2
        stream.run_half(first_id, last_id, partial(inflict, cluster, fault, node, daemon))
        if not fault.brief:
            getattr(cluster, fault.repair)(node)
        node = daemon_node(cluster, daemon, other_than=node)
    stop(daemon)
    assert len(stream.account().failovers) == 2


def inflict(cluster, fault: Fault, node, daemon) -> None:
    readies = daemon.log().count("ready:")
    getattr(cluster, fault.inflict)(node)
    if fault.brief:
        wait_for(lambda: daemon.log().count("ready:") > readies, timeout=60, what="a failover")
        getattr(cluster, fault.repair)(node)


@pytest.mark.fault("cluster: stop the daemon's node (leader); boot it; stop the next")
def test_stop_the_leader_node_then_another(cluster, stream):
    two_faults(cluster, stream, STOP_LEADER, STOP)


@pytest.mark.fault("cluster: stop the daemon's node (follower); boot; kill -9 the next")
def test_stop_a_follower_node_then_kill_another(cluster, stream):
    two_faults(cluster, stream, STOP_FOLLOWER, KILL)


@pytest.mark.fault("cluster: cut the daemon's node off the others; mend; again")
def test_partition(cluster, stream):
    two_faults(cluster, stream, PARTITION, PARTITION)


@pytest.mark.fault("cluster: SIGSTOP the daemon's node (follower), heartbeat=2; twice")
def test_hang(cluster, stream):
    """Nothing closes the daemon's connection: it learns of the hang from missed heartbeats."""
    two_faults(cluster, stream, HANG_FOLLOWER, HANG_FOLLOWER, RABBITMQ_HEARTBEAT="2")
