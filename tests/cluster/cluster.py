"""A RabbitMQ cluster of the tests' own: three throwaway nodes on loopback (tests/nodes.py),
joined with `rabbitmqctl join_cluster`, beside the shared broker, which it never touches. The
daemon under test reaches it by a RABBITMQ_URL listing the three; the faults act on one node."""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Callable
from functools import partial

import pika
from brokers import Broker
from nodes import Node, ThrowawayNode
from waiting import wait_for

LABEL = "amqp-dispatcher-cluster"
SIZE = 3
SETTINGS = (
    # A node cut off from the majority stops serving its clients, which go to the others;
    # it serves again once it sees them. RabbitMQ's advice for clusters of three.
    "cluster_partition_handling = pause_minority",
)


class Cluster(Node):
    """The nodes, and what the tests ask of the cluster as a whole; `rabbitmqctl` goes to a
    running node."""

    def __init__(self) -> None:
        self.nodes = [ThrowawayNode.fresh(LABEL, SETTINGS) for _ in range(SIZE)]
        hosts = ",".join(f"127.0.0.1:{node.amqp_port}" for node in self.nodes)
        super().__init__(f"amqp://guest:guest@{hosts}/")
        self.failed: dict[ThrowawayNode, Callable[[], None]] = {}  # each with its repair

    def __enter__(self) -> Cluster:
        try:
            _each(ThrowawayNode.start, self.nodes)
            first, *others = self.nodes
            for node in others:
                node.rabbitmqctl("stop_app")
                node.rabbitmqctl("join_cluster", first.name)
                node.rabbitmqctl("start_app")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.restore()  # a failed test's: a hung VM cannot stop
        finally:
            _each(ThrowawayNode.stop, [node for node in self.nodes if node._guard is not None])

    def running(self) -> list[ThrowawayNode]:
        return [node for node in self.nodes if node not in self.failed]

    def restore(self) -> None:
        """Repair each node failed and left so, by a test that failed midway."""
        for repair in list(self.failed.values()):
            repair()

    def rabbitmqctl(self, *args: str) -> str:
        return self.running()[0].rabbitmqctl(*args)

    def node_named(self, name: str) -> ThrowawayNode:
        (node,) = (node for node in self.nodes if node.name == name)
        return node

    def node_of_connection(self, connection_name: str) -> ThrowawayNode:
        """The node a client's connection is open on, from the connection's Erlang pid."""
        for line in self.rabbitmqctl(
            "list_connections", "--no-table-headers", "pid", "client_properties"
        ).splitlines():
            if f'"{connection_name}"' in line:
                return self.node_named(re.match(r"<([^.]+@[^.]+)\.", line).group(1))
        raise AssertionError(f"no connection named {connection_name}")

    def leader(self, queue: str) -> ThrowawayNode:
        """The node of the quorum queue's leader."""
        for line in self.rabbitmqctl(
            "list_queues", "--no-table-headers", "name", "leader"
        ).splitlines():
            name, _, leader = line.partition("\t")
            if name == queue:
                return self.node_named(leader.strip())
        raise AssertionError(f"no queue {queue}")

    def move_leader(self, queue: str, node: ThrowawayNode) -> None:
        """Have the quorum queue's leader move to `node` (Raft's leadership transfer)."""
        self.rabbitmqctl(
            "eval",
            f'{{ok, Q}} = rabbit_amqqueue:lookup(rabbit_misc:r(<<"/">>, queue, <<"{queue}">>)),'
            f" {{Name, _}} = Leader = amqqueue:get_pid(Q),"
            f" ra:transfer_leadership(Leader, {{Name, '{node.name}'}}).",
        )
        wait_for(lambda: self.leader(queue) is node, what=f"the leader of {queue} on {node.name}")

    def shut_down(self, node: ThrowawayNode) -> None:
        self.failed[node] = partial(self.boot, node)
        node.shut_down()

    def kill(self, node: ThrowawayNode) -> None:
        self.failed[node] = partial(self.boot, node)
        node.kill()

    def boot(self, node: ThrowawayNode) -> None:
        node.boot()
        del self.failed[node]

    def hang(self, node: ThrowawayNode) -> None:
        """Stop `node`'s VM (SIGSTOP): its sockets stay open and nothing answers on them, as
        when a machine freezes or its network drops packets; only heartbeats tell."""
        self.failed[node] = partial(self.resume, node)
        node.send_signal(signal.SIGSTOP)

    def resume(self, node: ThrowawayNode) -> None:
        node.send_signal(signal.SIGCONT)
        node.rabbitmqctl("await_startup")
        del self.failed[node]

    def partition(self, node: ThrowawayNode) -> None:
        """Cut `node` off from the other nodes, and only from them: it takes another Erlang
        cookie for each of them (`erlang:set_cookie/2`, per peer) and drops its links, so that
        none can link again; clients and rabbitmqctl still reach it. Pausing as a minority, it
        closes its clients' connections and refuses new ones until mend()."""
        self.failed[node] = partial(self.mend, node)
        node.rabbitmqctl("eval", _cut([other for other in self.nodes if other is not node]))

    def mend(self, node: ThrowawayNode) -> None:
        node.rabbitmqctl("eval", _mend([other for other in self.nodes if other is not node]))
        node.rabbitmqctl("await_startup")
        del self.failed[node]


def _cut(peers: list[ThrowawayNode]) -> str:
    names = ", ".join(f"'{peer.name}'" for peer in peers)
    return (
        f"[begin erlang:set_cookie(Peer, 'amqp-dispatcher-partition'),"
        f" erlang:disconnect_node(Peer) end || Peer <- [{names}]], ok."
    )


def _mend(peers: list[ThrowawayNode]) -> str:
    names = ", ".join(f"'{peer.name}'" for peer in peers)
    return (
        f"[begin erlang:set_cookie(Peer, erlang:get_cookie()), net_adm:ping(Peer) end"
        f" || Peer <- [{names}]], ok."
    )


class ClusterBroker(Broker):
    """The test's own client of the cluster: connected to a running node, again after a fault."""

    def __exit__(self, *exc_info: object) -> None:
        self.reconnect()  # its node may have failed since, unnoticed
        super().__exit__(*exc_info)

    def reconnect(self) -> None:
        nodes = self.node.running()
        self.connection = pika.BlockingConnection([pika.URLParameters(n.url) for n in nodes])
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()


def _each(action, nodes: list[ThrowawayNode]) -> None:
    """`action` on every node at once: a boot takes seconds, mostly waiting."""
    threads = [threading.Thread(target=action, args=(node,)) for node in nodes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
