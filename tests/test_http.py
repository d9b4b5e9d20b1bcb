"""The HTTP endpoint of a daemon run for real: /metrics scraped while messages flow, /readyz
through a broker outage, the ways it cannot start, and clients that are slow, idle or send
garbage."""

import json
import re
import resource
import select
import socket
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest
from daemons import consumer_config
from nodes import free_port
from prometheus_client.parser import text_string_to_metric_families
from waiting import wait_for

from amqpdispatcher.errors import EXIT_FAILURE


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def samples(port: int) -> dict[tuple, float]:
    """Every sample of /metrics, keyed by (name, sorted labels)."""
    status, text = get(port, "/metrics")
    assert status == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_the_broker_version_is_logged_at_connect_and_exported_by_every_worker(
    broker, daemon_factory
):
    announced = broker.server_properties()
    product, version = announced["product"], announced["version"]
    assert (product, version.split(".")[:2]) == ("RabbitMQ", ["3", "10"])  # the shared broker
    queue, port = broker.queue_name(), free_port()
    daemon = daemon_factory(consumer_config(queue)).start(
        "--http-port", str(port), "--processes", "2"
    )
    daemon.wait_ready()
    workers = daemon.workers()

    def info() -> dict | None:
        seen = {
            labels: value
            for (name, labels), value in samples(port).items()
            if name == "amqp_dispatcher_broker_info"
        }
        return seen if len(seen) == len(workers) else None

    expected = {
        (("pid", str(pid)), ("product", product), ("version", version), ("worker", str(number))): 1
        for number, pid in workers.items()
    }
    assert wait_for(info, what="each worker's broker_info") == expected
    assert daemon.stop() == 0
    log = daemon.log()
    assert log.count(f"({product} {version}) as ") == len(workers)  # each worker's connect line
    # The start says what RabbitMQ 4.3 would refuse of the config: its queue is transient.
    assert f"queues[0].durable: queue '{queue}' is neither durable nor exclusive" in log


def test_metrics_count_the_messages_that_flow(broker, daemon_factory):
    queue, other, port = broker.queue_name(), broker.queue_name("other"), free_port()
    config = consumer_config(queue, count=2, prefetch=2)
    config["queues"].append({"queue": other, "durable": False})
    daemon = daemon_factory(config).start("--http-port", str(port)).wait_ready()
    works = [{"id": n, "do": ["ack"]} for n in range(5)]
    works.append({"id": 5, "do": [["try-publish", "", other, "copy", True], "ack"]})
    works.append({"id": 6, "do": [["try-publish", "", broker.queue_name("none"), "x", True]]})
    works += [{"id": n, "do": ["reject-drop"]} for n in range(7, 10)]
    broker.publish_many(queue, works)
    labels = (("consumer", "scripted:Scripted"), ("queue", queue))

    def answered() -> dict | None:
        seen = samples(port)
        counted = sum(
            seen[("amqp_dispatcher_answers_total", (("answer", a), *labels))]
            for a in ("ack", "nack", "reject")
        )
        return seen if counted == 10 else None

    seen = wait_for(answered, what="10 messages answered")
    assert seen[("amqp_dispatcher_deliveries_total", labels)] == 10
    assert seen[("amqp_dispatcher_answers_total", (("answer", "ack"), *labels))] == 7
    assert seen[("amqp_dispatcher_answers_total", (("answer", "reject"), *labels))] == 3
    assert seen[("amqp_dispatcher_answers_total", (("answer", "nack"), *labels))] == 0
    assert seen[("amqp_dispatcher_consume_errors_total", labels)] == 0
    assert seen[("amqp_dispatcher_consume_duration_seconds_count", labels)] == 10
    worker = (("pid", str(daemon.workers()[1])), ("worker", "1"))  # a gauge's, by worker
    pool_of_worker = tuple(sorted((*labels, *worker)))
    assert seen[("amqp_dispatcher_in_flight", pool_of_worker)] == 0
    assert seen[("amqp_dispatcher_instances", pool_of_worker)] == 2
    assert seen[("amqp_dispatcher_consuming", pool_of_worker)] == 1
    assert seen[("amqp_dispatcher_publishes_total", (("result", "confirmed"),))] == 1
    assert seen[("amqp_dispatcher_publishes_total", (("result", "failed"),))] == 1
    assert seen[("amqp_dispatcher_connected", worker)] == 1
    assert seen[("amqp_dispatcher_reconnects_total", ())] == 0
    assert seen[("amqp_dispatcher_event_loop_blocked_seconds_total", ())] == 0
    assert daemon.stop() == 0
    assert broker.messages(queue) == 0


def test_readyz_follows_the_broker_through_an_outage(node, node_broker, daemon_factory):
    queue, other, port = node_broker.queue_name(), node_broker.queue_name("other"), free_port()
    config = consumer_config(queue)
    config["queues"].append({"queue": other, "durable": False})
    config["consumers"].append({"consumer": "scripted:Scripted", "queue": other})
    config["http"] = {"port": port}
    daemon = daemon_factory(config, node=node).start().wait_ready()
    assert get(port, "/readyz") == (
        200,
        json.dumps(
            {
                "ready": True,
                "workers": {
                    "1": {
                        "ready": True,
                        "connected": True,
                        "consuming": {queue: True, other: True},
                        "publishing_blocked": False,
                    }
                },
            }
        ),
    )
    with node.app_stopped():
        status, body = wait_for(
            lambda: (reply := get(port, "/readyz"))[0] == 503 and reply, what="503"
        )
        assert json.loads(body) == {
            "ready": False,
            "workers": {
                "1": {
                    "ready": False,
                    "connected": False,
                    "consuming": {queue: False, other: False},
                    "publishing_blocked": False,
                }
            },
        }
        assert get(port, "/healthz") == (200, json.dumps({"alive": True}))
    wait_for(lambda: get(port, "/readyz")[0] == 200, timeout=60, what="ready again")
    node_broker.reconnect()
    assert node_broker.consumers(queue) == node_broker.consumers(other) == 1
    reconnects = ("amqp_dispatcher_reconnects_total", ())
    wait_for(lambda: samples(port)[reconnects] == 1, what="the reconnection counted")
    assert daemon.stop() == 0


def test_the_command_line_port_wins_over_the_config(broker, daemon_factory):
    queue, (ours, theirs) = broker.queue_name(), (free_port(), free_port())
    config = consumer_config(queue)
    config["http"] = {"port": theirs, "address": "127.0.0.1"}
    daemon = daemon_factory(config).start("--http-port", str(ours)).wait_ready()
    assert get(ours, "/healthz")[0] == 200
    assert get(ours, "/nowhere")[0] == 404
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", theirs)) != 0
    assert daemon.stop() == 0


def test_a_port_in_use_is_a_one_line_error(broker, daemon_factory):
    queue = broker.queue_name()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = daemon_factory(consumer_config(queue)).run("--http-port", str(port))
    assert result.returncode == EXIT_FAILURE, result.stdout
    errors = [line for line in result.stdout.splitlines() if " ERROR " in line]
    assert len(errors) == 1, result.stdout
    assert f"cannot serve HTTP on 127.0.0.1 port {port}: Address already in use" in errors[0]
    assert "Traceback" not in result.stdout


@pytest.fixture
def many_files():
    """Room in this process for the sockets of a flood of clients."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def half_sent(port: int, n: int) -> socket.socket:
    """A connection that sends nothing, or (odd `n`) a request line and a header but never the
    blank line that ends the headers."""
    sock = socket.create_connection(("127.0.0.1", port))
    if n % 2:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: slow\r\n")
    return sock


def read_until_closed(sock: socket.socket, then: bytes = b"", limit: float = 60) -> bytes:
    """What the server sends until it closes the connection, while sending it `then` one byte
    at a time (each once the server has been silent for a moment); AssertionError if it has
    not closed it within `limit` seconds."""
    received, deadline = b"", time.monotonic() + limit
    while time.monotonic() < deadline:
        if select.select([sock], [], [], 0.05)[0]:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                return received
            if not data:
                return received
            received += data
        elif then:
            try:
                sock.send(then[:1])
            except (BrokenPipeError, ConnectionResetError):
                return received
            then = then[1:]
    raise AssertionError(f"still open after {limit}s, having received {received!r}")


def exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        return read_until_closed(sock)


def drops(log: str) -> Counter:
    """The dropped connections that the daemon's warnings count, by reason."""
    counts: Counter = Counter()
    for details in re.findall(
        r"HTTP endpoint dropped \d+ connections? in the last \d+ s: (.*) \(", log
    ):
        for part in details.split(", "):
            count, reason = part.split(" ", 1)
            counts[reason] += int(count)
    return counts


def assert_warned_within_bounds(log: str, seconds: float) -> None:
    """No ERROR, no traceback, and the endpoint's warnings at most one a minute (plus the one
    that sums up the last minute at the stop)."""
    assert " ERROR " not in log and "Traceback" not in log, log
    warnings = [line for line in log.splitlines() if " WARNING [amqp-dispatcher.http] " in line]
    assert 1 <= len(warnings) <= 2 + seconds / 60, log


def test_a_flood_of_half_sent_requests_leaves_healthz_and_the_broker_served(
    broker, daemon_factory, many_files
):
    queue, copies, port = broker.queue_name(), broker.queue_name("copies"), free_port()
    config = consumer_config(queue)
    config["queues"].append({"queue": copies, "durable": False})
    config["http"] = {"port": port, "request_timeout": 3600}  # evicted, not timed out
    started = time.monotonic()
    # Far fewer descriptors than the flood: the cap must leave some for the broker connections.
    daemon = daemon_factory(config).start("--http-port", str(port), max_files=256).wait_ready()
    slow = []
    try:
        slow += (half_sent(port, n) for n in range(1100))
        for _ in range(5):
            assert get(port, "/healthz") == (200, json.dumps({"alive": True}))
        # The first publish opens the publishing connection, after the flood.
        works = [{"id": n, "do": [["publish", "", copies, f"copy {n}"], "ack"]} for n in range(20)]
        broker.publish_many(queue, works)
        wait_for(lambda: broker.messages(copies) == 20, what="20 copies published")
        assert get(port, "/readyz")[0] == 200
    finally:
        for sock in slow:
            sock.close()
    assert daemon.stop() == 0
    assert len(daemon.records("done")) == 20
    log = daemon.log()
    assert_warned_within_bounds(log, time.monotonic() - started)
    dropped = drops(log)
    assert dropped.keys() == {"evicted"}, log
    assert dropped["evicted"] >= 1100 - 64


def test_a_request_sent_a_byte_at_a_time_or_a_silent_keep_alive_is_closed_at_the_timeout(
    broker, daemon_factory
):
    queue, port = broker.queue_name(), free_port()
    config = consumer_config(queue)
    config["http"] = {"port": port, "request_timeout": 0.5}
    started = time.monotonic()
    daemon = daemon_factory(config).start().wait_ready()
    # A byte every 0.05 s: a time limit per read would never run out; the request's does.
    endless = b"GET /healthz HTTP/1.1\r\nX-Slow: " + b"a" * 100_000
    with socket.create_connection(("127.0.0.1", port)) as slowloris:
        assert read_until_closed(slowloris, then=endless) == b""
    with socket.create_connection(("127.0.0.1", port)) as idle:
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: idle\r\n\r\n")
        answer = read_until_closed(idle)  # answered, then kept alive until the timeout
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.endswith(b"\r\n\r\n" + json.dumps({"alive": True}).encode())
    assert get(port, "/healthz")[0] == 200
    assert daemon.stop() == 0
    log = daemon.log()
    assert_warned_within_bounds(log, time.monotonic() - started)
    assert drops(log) == {"timed out": 2}


MALFORMED = [
    b"\x00\x01 garbage\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\n" + b"X-Many: a\r\n" * 150 + b"\r\n",
    b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n",
    b"GET /healthz HTTP/9.9\r\n\r\n",
    b"POST /healthz HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
]


def test_malformed_requests_are_answered_400_and_warned_of_a_few_lines_at_a_time(
    broker, daemon_factory
):
    queue, port = broker.queue_name(), free_port()
    config = consumer_config(queue)
    started = time.monotonic()
    daemon = daemon_factory(config).start("--http-port", str(port)).wait_ready()
    for n in range(210):
        answer = exchange(port, MALFORMED[n % len(MALFORMED)])
        assert answer.startswith((b"HTTP/1.1 400 Bad Request\r\n", b"HTTP/1.1 414 ")), answer
    assert get(port, "/healthz")[0] == 200
    assert daemon.stop() == 0
    log = daemon.log()
    assert_warned_within_bounds(log, time.monotonic() - started)
    assert drops(log) == {"malformed": 210}
