"""Broker and network trouble that the daemon rides out: reconnection, a broker down at start,
channel errors, consumers cancelled by the broker, publisher confirms, TLS, a blocked loop."""

import signal
import ssl

import pytest
import trustme
from brokers import BROKER, broker_url
from daemons import consumer_config, daemon_connection
from nodes import free_port
from proxy import Proxy
from test_daemon import started
from waiting import wait_for

from amqpdispatcher.url import parse_url


def test_a_closed_connection_is_reopened_and_consuming_resumes(node_broker, daemon_factory):
    queue = node_broker.queue_name()
    daemon = started(daemon_factory, consumer_config(queue, count=2, prefetch=2), node_broker.node)
    for round_ in range(3):
        name, _ = daemon_connection(daemon)
        node_broker.node.close_connection(name)
        wait_for(lambda n=round_: daemon.log().count("ready:") == n + 2, what="reconnection")
        node_broker.publish(queue, {"id": round_})
        wait_for(lambda n=round_: len(daemon.records("done")) == n + 1)
    assert daemon.process.poll() is None
    assert daemon.log().count("lost the connection to") == 3
    assert len(daemon.records("init")) == 2  # the same instances throughout
    assert daemon.records("shutdown") == []
    assert daemon.stop() == 0
    assert node_broker.messages(queue) == 0


def test_a_broker_down_at_start_is_waited_for(broker, daemon_factory):
    queue = broker.queue_name()
    config = consumer_config(queue)
    config["startup_handler"] = "scripted:startup"
    port = free_port()  # nothing listens there yet
    url = broker_url(address=f"127.0.0.1:{port}")
    daemon = daemon_factory(config, RABBITMQ_URL=url).start()
    wait_for(lambda: daemon.log().count("retrying in") >= 3, what="three retries")
    assert "Connection refused" in daemon.log()
    assert [r["event"] for r in daemon.records()] == ["startup", "init"]
    proxy = Proxy((BROKER.host, BROKER.port), port=port)
    try:
        daemon.wait_ready(timeout=40)
        broker.publish(queue, {"id": 1})
        wait_for(lambda: daemon.records("done"))
        assert daemon.stop() == 0
    finally:
        proxy.close()


def test_sigterm_during_a_blackholed_connect_exits_at_once(daemon_factory):
    proxy = Proxy((BROKER.host, BROKER.port))
    proxy.blackhole_new = True
    try:
        url = broker_url(address=f"127.0.0.1:{proxy.port}", query="?connection_timeout=3600000")
        daemon = daemon_factory(consumer_config("jobs"), RABBITMQ_URL=url).start()
        wait_for(lambda: proxy.accepted == 1, what="the connection attempt")
        assert daemon.stop(signal.SIGTERM) == 0  # not an hour, the connection_timeout
    finally:
        proxy.close()


def test_sigterm_while_the_network_is_down_exits_promptly(broker, daemon_factory):
    queue = broker.queue_name()
    proxy = Proxy((BROKER.host, BROKER.port))
    try:
        url = broker_url(address=f"127.0.0.1:{proxy.port}", query="?heartbeat=3600")
        daemon = started(daemon_factory, consumer_config(queue, count=2), RABBITMQ_URL=url)
        broker.publish(queue, {"id": 1, "do": [["sleep", 1]]})
        wait_for(lambda: daemon.records("consume"))
        proxy.blackhole()
        assert daemon.stop(signal.SIGTERM) == 0  # not an hour, what the heartbeat would take
        assert [r["id"] for r in daemon.records("done")] == [1]  # it finished; its ack is lost
        assert len(daemon.records("shutdown")) == 2
    finally:
        proxy.close()


def test_a_channel_error_reopens_that_channel_only(broker, daemon_factory, tmp_path):
    queue, other, go = broker.queue_name(), broker.queue_name("other"), tmp_path / "go"
    config = consumer_config(queue)
    config["queues"].append({"queue": other, "durable": False})
    config["consumers"].append({"consumer": "scripted:Scripted", "queue": other})
    daemon = started(daemon_factory, config)
    broker.publish(queue, {"id": "bug", "do": ["bad-ack-once", ["await-file", str(go)]]})
    broker.publish(other, {"id": "other-1", "do": [["await-file", str(go)]]})
    wait_for(lambda: len(daemon.records("consume")) == 2, what="both in flight")
    wait_for(lambda: "PRECONDITION_FAILED - unknown delivery tag" in daemon.log())
    go.touch()  # only now do both return: one to a channel gone, one to a channel intact
    wait_for(lambda: {r["id"] for r in daemon.records("done")} >= {"bug", "other-1"})
    broker.publish(queue, {"id": "after"})
    wait_for(lambda: "after" in {r["id"] for r in daemon.records("done")})
    assert daemon.stop() == 0
    log = daemon.log()
    assert "the broker closed the channel: PRECONDITION_FAILED" in log
    assert log.count("ready:") == 1  # the connection stayed up
    assert "cannot ack" not in log  # its channel was gone: not even tried, since redelivered
    assert [r["id"] for r in daemon.records("consume")].count("bug") == 2
    assert broker.messages(queue) == broker.messages(other) == 0


def test_a_deleted_queue_is_declared_again_and_consumed(broker, daemon_factory):
    queue = broker.queue_name()
    config = consumer_config(queue, bindings=[{"exchange": "amq.direct", "routing_key": queue}])
    daemon = started(daemon_factory, config)
    for deletion in range(1, 3):
        broker.channel.queue_delete(queue)
        wait_for(lambda n=deletion: daemon.log().count("cancelled") == n, what="the cancel")
        wait_for(lambda: broker.consumers(queue) == 1, what="the queue back, consumed")
    broker.publish(queue, {"id": 1}, exchange="amq.direct")  # through the declared binding
    wait_for(lambda: daemon.records("done"))
    assert daemon.stop() == 0
    assert daemon.log().count("the broker cancelled the consumer; subscribing again") == 2


def test_a_consumer_answering_on_a_dead_channel_is_not_failed(
    node_broker, daemon_factory, tmp_path
):
    queue, go = node_broker.queue_name(), tmp_path / "go"
    daemon = started(daemon_factory, consumer_config(queue), node_broker.node)
    node_broker.publish(queue, {"id": 1, "do": [["await-file", str(go)], "ack"]})
    wait_for(lambda: daemon.records("consume"))
    node_broker.node.close_connection(daemon_connection(daemon)[0])
    wait_for(lambda: "lost the connection to" in daemon.log(), what="the connection lost")
    go.touch()  # only now does the consumer ack, on the dead channel
    wait_for(lambda: len(daemon.records("done")) == 2, what="the redelivery done")
    assert daemon.stop() == 0
    assert f"cannot ack delivery 1 of '{queue}'" in daemon.log()
    assert [r["delivery_info"]["redelivered"] for r in daemon.records("consume")] == [False, True]
    assert [r["event"] for r in daemon.records() if r["event"] in ("init", "shutdown")] == [
        "init",
        "shutdown",
    ]  # the same instance all along, shut down once at the end


def test_a_cancelled_consumer_of_a_foreign_queue_retries_until_it_exists(broker, daemon_factory):
    queue = broker.queue_name("foreign")
    broker.channel.queue_declare(queue)
    config = consumer_config("unused")
    config["queues"] = []
    config["consumers"][0]["queue"] = queue
    daemon = started(daemon_factory, config)
    broker.channel.queue_delete(queue)
    wait_for(lambda: daemon.log().count("cannot subscribe") >= 2, what="retries")
    assert "NOT_FOUND - no queue" in daemon.log()
    broker.channel.queue_declare(queue)
    wait_for(lambda: broker.consumers(queue) == 1, timeout=40, what="the consumer back")
    assert daemon.stop() == 0


@pytest.mark.parametrize("executor", ["gevent", "thread"])
def test_publish_waits_for_the_brokers_confirm_and_raises_on_nack(broker, daemon_factory, executor):
    """On either executor: from a thread, publish is marshalled to the loop, and its PublishError
    raised back in the thread."""
    queue, full = broker.queue_name(), broker.queue_name("full")
    config = consumer_config(queue)
    config["consumers"][0]["executor"] = executor
    config["queues"].append(
        {
            "queue": full,
            "durable": False,
            "x_max_length": 1,
            "arguments": {"x-overflow": "reject-publish"},
        }
    )
    daemon = started(daemon_factory, config)
    for n in range(3):
        broker.publish(queue, {"id": n, "do": [["try-publish", "", full, f"m{n}", False]]})
    wait_for(lambda: len(daemon.records("done")) == 3)
    assert daemon.stop() == 0
    assert len(daemon.records("published")) == 1
    assert [r["message"] for r in daemon.records("publish-error")] == [
        "the broker nacked the message"
    ] * 2
    assert broker.messages(full) == 1
    on_the_loop = executor == "gevent"
    assert all(r["on_main_thread"] is on_the_loop for r in daemon.records("consume"))


def test_the_publishing_connection_is_separate_and_reopened(node_broker, daemon_factory):
    queue, out = node_broker.queue_name(), node_broker.queue_name("out")
    config = consumer_config(queue)
    config["queues"].append({"queue": out, "durable": False})
    daemon = started(daemon_factory, config, node_broker.node)
    node_broker.publish(queue, {"id": 1, "do": [["publish", "", out, "first"]]})
    wait_for(lambda: node_broker.messages(out) == 1)
    name, _ = daemon_connection(daemon)
    assert node_broker.node.connection_pids(f"{name}-publisher")
    node_broker.node.close_connection(f"{name}-publisher")
    wait_for(lambda: "publishing connection lost" in daemon.log())
    node_broker.publish(queue, {"id": 2, "do": [["publish", "", out, "second"]]})
    wait_for(lambda: node_broker.messages(out) == 2)
    assert daemon.log().count("ready:") == 1  # consuming never noticed
    assert daemon.stop() == 0


def test_a_consumer_blocking_the_loop_is_named(broker, daemon_factory, tmp_path):
    queue, go = broker.queue_name(), tmp_path / "go"
    daemon = started(daemon_factory, consumer_config(queue))
    broker.publish(queue, {"id": 1, "do": [["spin-until-file", str(go)]]})
    warning = f"the event loop was blocked for more than 1.0s by scripted:Scripted on '{queue}'"
    wait_for(lambda: warning in daemon.log(), what="the warning")
    go.touch()
    wait_for(lambda: daemon.records("done"))
    assert daemon.stop() == 0


@pytest.fixture
def tls_context(ca):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def tls_proxy(tls_context):
    proxy = Proxy((BROKER.host, BROKER.port), tls=tls_context)
    yield proxy
    proxy.close()


def tls_url(proxy: Proxy, query: str) -> str:
    return broker_url(address=f"localhost:{proxy.port}", query=query, scheme="amqps")


def test_amqps_verifies_the_broker_with_the_given_ca(
    broker, daemon_factory, tls_proxy, ca, tmp_path
):
    queue = broker.queue_name()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    url = tls_url(tls_proxy, f"?cacertfile={ca_file}&server_name_indication=localhost")
    daemon = started(daemon_factory, consumer_config(queue), RABBITMQ_URL=url)
    broker.publish(queue, {"id": 1})
    wait_for(lambda: daemon.records("done"))
    assert daemon.stop() == 0
    assert f"connected to {parse_url(url)[0]}" in daemon.log()


def test_amqps_with_the_wrong_ca_fails_clearly(broker, daemon_factory, tls_proxy, tmp_path):
    other_ca = tmp_path / "other.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    url = tls_url(tls_proxy, f"?cacertfile={other_ca}")
    result = daemon_factory(consumer_config(broker.queue_name()), RABBITMQ_URL=url).run()
    assert result.returncode == 1
    assert "TLS handshake failed: unable to get local issuer certificate" in result.stdout
    assert "Traceback" not in result.stdout


def test_amqps_verify_none_skips_the_check(broker, daemon_factory, tls_proxy):
    url = tls_url(tls_proxy, "?verify=verify_none")
    daemon = started(daemon_factory, consumer_config(broker.queue_name()), RABBITMQ_URL=url)
    assert daemon.stop() == 0


def test_amqps_presents_the_client_certificate(broker, daemon_factory, tls_context, ca, tmp_path):
    tls_context.verify_mode = ssl.CERT_REQUIRED  # the endpoint wants a certificate of ca's
    ca.configure_trust(tls_context)
    proxy = Proxy((BROKER.host, BROKER.port), tls=tls_context)
    try:
        ca_file, cert_file, key_file = (tmp_path / name for name in ("ca", "cert", "key"))
        ca.cert_pem.write_to_path(str(ca_file))
        client = ca.issue_cert("dispatcher@example")
        client.cert_chain_pems[0].write_to_path(str(cert_file))
        client.private_key_pem.write_to_path(str(key_file))
        config = consumer_config(broker.queue_name())
        url = tls_url(proxy, f"?cacertfile={ca_file}")
        anonymous = daemon_factory(config, RABBITMQ_URL=url).start()
        # TLS 1.3 refuses after the handshake, like a dropped connection: logged, retried
        wait_for(lambda: "certificate required" in anonymous.log(), what="the refusal")
        assert anonymous.stop() == 0
        query = f"?cacertfile={ca_file}&certfile={cert_file}&keyfile={key_file}"
        daemon = started(daemon_factory, config, RABBITMQ_URL=tls_url(proxy, query))
        assert daemon.stop() == 0
    finally:
        proxy.close()


def test_a_subscription_refused_after_a_reconnection_is_retried_by_its_pool_alone(
    node_broker, daemon_factory
):
    declared, foreign = node_broker.queue_name(), node_broker.queue_name("foreign")
    node_broker.channel.queue_declare(foreign)  # another service's queue, not in the config
    config = consumer_config(declared)
    config["consumers"].append({"consumer": "scripted:Scripted", "queue": foreign})
    daemon = started(daemon_factory, config, node_broker.node)
    node_broker.channel.queue_delete(foreign)
    wait_for(lambda: "the broker cancelled the consumer" in daemon.log(), what="the cancel")
    node_broker.node.close_connection(daemon_connection(daemon)[0])
    wait_for(lambda: daemon.log().count("ready:") == 2, what="the start on a new connection")
    assert f"consumers[1] on '{foreign}': cannot consume: NOT_FOUND" in daemon.log()
    node_broker.publish(declared, {"id": "declared"})
    wait_for(lambda: "declared" in {r["id"] for r in daemon.records("done")}, what="consuming")
    node_broker.channel.queue_declare(foreign)
    node_broker.publish(foreign, {"id": "foreign"})
    wait_for(
        lambda: "foreign" in {r["id"] for r in daemon.records("done")},
        timeout=40,
        what="the foreign queue consumed once it exists",
    )
    assert daemon.stop() == 0


def test_after_a_hang_the_other_host_is_tried_first(broker, daemon_factory):
    """A host whose connection hung (open, nothing passing, found by missed heartbeats) is tried
    after the others: tried first, it would hold the reconnection for its connection timeout."""
    proxies = [Proxy((BROKER.host, BROKER.port)) for _ in range(2)]
    try:
        hosts = [f"127.0.0.1:{proxy.port}" for proxy in proxies]
        url = broker_url(dead_hosts=hosts[:1], address=hosts[1], query="?heartbeat=1")
        daemon = started(daemon_factory, consumer_config(broker.queue_name()), RABBITMQ_URL=url)
        hung, other = sorted(proxies, key=lambda proxy: proxy.accepted == 0)
        hung.blackhole_new = True
        hung.blackhole()
        wait_for(lambda: daemon.log().count("ready:") == 2, timeout=60, what="a reconnection")
        assert other.accepted == 1
        assert f"cannot connect to amqp://guest:***@127.0.0.1:{hung.port}/" not in daemon.log()
    finally:
        for proxy in proxies:
            proxy.close()
