"""consumers[].retry on a quorum work queue of the cluster, across the loss of the node that
holds the leaders of its delay queue and archive: the failed messages wait in the delay queue
while the node is down, come back after their delay with x-retry-count 1 and are consumed;
what was archived stays so, and what runs out of retries after the loss is archived too. The
delay queues of a quorum work queue dead-letter at least once (amqpdispatcher/retry/queues.py)."""

from __future__ import annotations

import json

import pytest
from daemons import daemon_connection, publishing_connection
from harness import Stream, stop
from waiting import wait_for

from amqpdispatcher.retry.queues import default_archive_queue, delay_queue_name

DELAY = 15.0  # seconds a failed message waits: far longer than losing a node takes
RETRIED = 40  # failing once, then done: the stream's ids 0 to 39
EXHAUSTED = 10  # failing every time, ids x0...: archived once their one retry failed too
PERMANENT = 10  # raising PermanentFailure, ids p0...: archived at once


@pytest.fixture
def stream(cluster_broker, daemon_factory, request) -> Stream:
    stream = Stream(
        cluster_broker,
        daemon_factory,
        fault=request.node.get_closest_marker("fault").args[0],
        count=RETRIED,
        work=[["raise-below-retry", 1]],
        queue_keys={"x_queue_type": "quorum"},
    )
    stream.config["consumers"][0]["retry"] = {"max_retries": 1, "backoff": [DELAY]}
    cluster_broker.queues.extend(retry_queues(stream))
    return stream


def retry_queues(stream: Stream) -> tuple[str, str]:
    """The delay queue and the archive the daemon derives for the stream's queue."""
    return delay_queue_name(stream.queue, DELAY), default_archive_queue(stream.queue)


def ready(broker, queue: str) -> int:
    """The queue's ready messages, once a node answers for it."""
    return wait_for(lambda: broker.declare_ok(queue), what=f"{queue} answering").message_count


def holding(broker, queue: str, count: int, timeout: float = 20) -> None:
    """Waits until `queue` holds `count` ready messages. Just after its leader's node is lost,
    a quorum queue reports 0 for a second or so (its new leader's statistics): what it reports
    then is not what it holds."""
    wait_for(lambda: ready(broker, queue) == count, timeout, f"{count} in {queue}")


def started(cluster, stream: Stream):
    """The daemon, once it has archived a first message: then it has its publishing connection
    too. Returns it with the nodes of its consuming and publishing connections."""
    daemon = stream.start()
    stream.broker.publish(stream.queue, {"id": "p0", "do": ["raise-permanent"]})
    holding(stream.broker, retry_queues(stream)[1], 1)
    consuming = cluster.node_of_connection(daemon_connection(daemon)[0])
    publishing = cluster.node_of_connection(publishing_connection(daemon))
    return daemon, consuming, publishing


def across_the_loss(cluster, stream: Stream, lost, fault) -> None:
    """With the leaders of the delay queue and the archive on `lost`: the messages fail, the
    node is lost by `fault(lost)` while they wait, then come their retries. The delay queue
    and the archive are counted before the loss, with the node down, and after its boot."""
    broker = stream.broker
    delay, archive = retry_queues(stream)
    for queue in (delay, archive):
        cluster.move_leader(queue, lost)
    for n in range(1, PERMANENT):
        broker.publish(stream.queue, {"id": f"p{n}", "do": ["raise-permanent"]})
    for n in range(EXHAUSTED):
        broker.publish(stream.queue, {"id": f"x{n}", "do": ["raise"]})
    stream.publish()
    waiting = RETRIED + EXHAUSTED
    holding(broker, delay, waiting)
    holding(broker, archive, PERMANENT)
    stream.inject(lambda: fault(lost))
    broker.reconnect()
    holding(broker, delay, waiting, timeout=DELAY)  # past the loss, before their delay ends
    holding(broker, archive, PERMANENT)
    stream.wait_processed(RETRIED, timeout=DELAY + 60)
    everything = PERMANENT + EXHAUSTED
    holding(broker, archive, everything, timeout=60)
    cluster.boot(lost)
    broker.reconnect()
    holding(broker, archive, everything)


def account(stream: Stream, daemon, lost, connections: dict) -> None:
    """Once the daemon stopped: the stream's accounting, the delay queue empty, the archive
    holding once each message that failed for good, with its retry count and exception; the
    counts in the report. `connections`: the daemon's, by what they do, on their nodes."""
    stop(daemon)
    outcome = stream.account()
    # The first consume after the loss is a retry, after its delay: no failover time to tell.
    outcome.failovers = []
    delay, archive = retry_queues(stream)
    assert ready(stream.broker, delay) == 0
    retried = {r["id"] for r in stream.records("consume") if r["headers"].get("x-retry-count") == 1}
    assert retried >= set(range(RETRIED)), "each came back, with x-retry-count 1"
    archived = sorted(
        (json.loads(body)["id"], properties.headers["x-retry-count"])
        + (properties.headers["x-exception-type"],)
        for _, properties, body in stream.broker.get_all(archive)
    )
    assert archived == sorted(
        [(f"p{n}", 0, "PermanentFailure") for n in range(PERMANENT)]
        + [(f"x{n}", 1, "RuntimeError") for n in range(EXHAUSTED)]
    )
    on_lost = " and ".join(name for name, node in connections.items() if node is lost)
    outcome.notes = (
        f"{RETRIED + EXHAUSTED} in the delay queue after the loss, {len(retried)} back with "
        f"x-retry-count 1; archived: {PERMANENT} before, {PERMANENT} with the node down, "
        f"{len(archived)} after its boot; the daemon's connections on the lost node: "
        f"{on_lost or 'none'}"
    )


@pytest.mark.fault("cluster retry: stop the daemon's node, the delay/archive leader")
def test_the_delay_queue_and_the_archive_survive_the_loss_of_the_daemons_node(restored, stream):
    cluster = restored
    daemon, consuming, publishing = started(cluster, stream)
    cluster.move_leader(stream.queue, consuming)
    across_the_loss(cluster, stream, consuming, cluster.shut_down)
    assert cluster.node_of_connection(daemon_connection(daemon)[0]) is not consuming
    account(stream, daemon, consuming, {"consuming": consuming, "publishing": publishing})


@pytest.mark.fault("cluster retry: kill -9 another node, the delay/archive leader")
def test_the_delay_queue_and_the_archive_survive_a_crash_of_their_leaders_node(restored, stream):
    cluster = restored
    daemon, consuming, publishing = started(cluster, stream)
    lost = next(node for node in cluster.nodes if node not in (consuming, publishing))
    across_the_loss(cluster, stream, lost, cluster.kill)
    account(stream, daemon, lost, {"consuming": consuming, "publishing": publishing})
