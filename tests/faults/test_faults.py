"""Faults injected mid-stream; each test ends with Stream.account(): none lost. The faults that
need rabbitmqctl or hit a whole broker hit the session's throwaway node (node_stream), never the
shared broker."""

import signal

import pytest
from brokers import BROKER, broker_url
from daemons import daemon_connection
from harness import Stream, stop
from proxy import Proxy
from waiting import wait_for


def fault_stream(broker, daemon_factory, request) -> Stream:
    return Stream(broker, daemon_factory, fault=request.node.get_closest_marker("fault").args[0])


@pytest.fixture
def stream(broker, daemon_factory, request):
    return fault_stream(broker, daemon_factory, request)


@pytest.fixture
def node_stream(node_broker, daemon_factory, request):
    return fault_stream(node_broker, daemon_factory, request)


@pytest.mark.fault("rabbitmqctl close_all_connections, 3 times")
def test_close_all_connections(node_stream, node):
    node_stream.publish()
    daemon = node_stream.start()
    for round_, at in enumerate((100, 250, 400)):
        node_stream.wait_processed(at)
        node_stream.inject(lambda: node.close_all_connections("test: fault injection"))
        node_stream.broker.reconnect()
        wait_for(lambda n=round_: daemon.log().count("ready:") == n + 2, what="reconnection")
    node_stream.wait_processed(node_stream.count)
    stop(daemon)
    node_stream.account()


@pytest.mark.fault("broker stop_app, then start_app once the daemon has retried")
def test_broker_restart(node_stream, node):
    node_stream.publish()
    daemon = node_stream.start()
    node_stream.wait_processed(150)

    def outage() -> None:
        with node.app_stopped():
            wait_for(lambda: "retrying in" in daemon.log(), what="a reconnection refused")

    node_stream.inject(outage)
    node_stream.broker.reconnect()
    node_stream.wait_processed(node_stream.count, timeout=90)
    stop(daemon)
    assert "lost the connection" in daemon.log()
    node_stream.account()


@pytest.fixture
def proxy():
    proxy = Proxy((BROKER.host, BROKER.port))
    yield proxy
    proxy.close()


def proxied_url(proxy: Proxy, heartbeat: int) -> str:
    return broker_url(address=f"127.0.0.1:{proxy.port}", query=f"?heartbeat={heartbeat}")


@pytest.mark.fault("TCP proxy cuts the connection")
def test_connection_cut(stream, proxy):
    stream.publish()
    daemon = stream.start(RABBITMQ_URL=proxied_url(proxy, 10))
    stream.wait_processed(150)
    stream.inject(proxy.cut)
    stream.wait_processed(stream.count)
    stop(daemon)
    assert daemon.log().count("ready:") == 2
    stream.account()


@pytest.mark.fault("TCP proxy blackholes traffic (heartbeat 2 s detects it)")
def test_connection_blackholed(stream, proxy):
    stream.publish()
    daemon = stream.start(RABBITMQ_URL=proxied_url(proxy, 2))
    stream.wait_processed(150)
    stream.inject(proxy.blackhole)
    wait_for(lambda: daemon.log().count("ready:") == 2, timeout=60, what="heartbeat detection")
    stream.wait_processed(stream.count, timeout=90)
    stop(daemon)
    stream.account()


@pytest.mark.fault("SIGKILL of the daemon, then a fresh daemon")
def test_sigkill_then_a_fresh_daemon(stream):
    stream.publish()
    daemon = stream.start()
    stream.wait_processed(200)
    stream.inject(daemon.kill)
    fresh = stream.start()
    stream.wait_processed(stream.count)
    stop(fresh)
    stream.account()


@pytest.mark.fault("SIGTERM with slow consumers in flight, then a fresh daemon")
def test_sigterm_with_slow_consumers(stream):
    stream.count, stream.work = 60, [["sleep", 1.0]]
    stream.publish()
    daemon = stream.start()
    wait_for(lambda: len(daemon.records("consume")) >= 6)
    assert daemon.stop(signal.SIGTERM) == 0
    started = {r["id"] for r in daemon.records("consume")}
    assert {r["id"] for r in daemon.records("done")} == started  # each finished
    assert stream.broker.messages(stream.queue) == stream.count - len(started)  # acked
    fresh = stream.start()
    stream.wait_processed(stream.count, timeout=60)
    stop(fresh)
    assert stream.account().duplicated == 0


@pytest.mark.fault("publishing connection force-closed (consumer publishes, then acks)")
def test_publishing_connection_closed(node_stream):
    out = node_stream.broker.queue_name("downstream")
    node_stream.broker.channel.queue_declare(out, durable=True)
    node_stream.work = [["sleep", 0.02], ["publish", "", out, "copy"]]
    node_stream.publish()
    daemon = node_stream.start()
    name, _ = daemon_connection(daemon)
    for at in (100, 300):
        node_stream.wait_processed(at)
        node_stream.inject(lambda: daemon.node.close_connection(f"{name}-publisher"))
    node_stream.wait_processed(node_stream.count)
    stop(daemon)
    node_stream.account()
    assert "publishing connection lost" in daemon.log()
    downstream = node_stream.broker.get_all(out)
    assert len(downstream) >= node_stream.count  # every processed message published its copy
