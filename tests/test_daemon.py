"""The daemon run through its command line against the real broker."""

import re
import signal
import socket
from pathlib import Path

import pytest
from brokers import BROKER, SHARED, broker_url
from daemons import WORKER, consumer_config, daemon_connection, worker_label
from nodes import Node, ThrowawayNode
from scripted import THROWABLES
from waiting import wait_for


def started(daemon_factory, config, node: Node = SHARED, **env):
    return daemon_factory(config, node, **env).start().wait_ready()


def test_messages_are_consumed_and_acked(broker, daemon_factory):
    queue = broker.queue_name()
    daemon = started(daemon_factory, consumer_config(queue, count=3, prefetch=5))
    broker.publish_many(queue, [{"id": n} for n in range(50)] + [{"id": 50, "do": ["ack"]}])
    wait_for(lambda: len(daemon.records("done")) == 51, what="51 messages consumed")
    assert daemon.stop() == 0
    assert sorted(r["id"] for r in daemon.records("consume")) == list(range(51))
    assert broker.messages(queue) == 0  # acked: nothing came back when the channel closed
    assert len(daemon.records("init")) == 3
    assert len(daemon.records("shutdown")) == 3


def test_message_attributes_reach_the_consumer(broker, daemon_factory):
    queue = broker.queue_name()
    daemon = started(daemon_factory, consumer_config(queue))
    broker.publish(
        queue,
        '{"id": "caf\u00e9"}',
        content_type="application/json",
        content_encoding="utf-8",
        headers={"trace": "abc"},
        message_id="m-1",
        correlation_id="c-1",
        reply_to="replies",
        timestamp=1700000000,
    )
    (seen,) = wait_for(lambda: daemon.records("consume"))
    assert daemon.stop() == 0
    assert seen["text"] == '{"id": "caf\u00e9"}'
    assert seen["id"] == "caf\u00e9"
    assert seen["headers"] == {"trace": "abc"}
    assert seen["properties"] == {
        "content_type": "application/json",
        "content_encoding": "utf-8",
        "delivery_mode": 2,
        "message_id": "m-1",
        "correlation_id": "c-1",
        "reply_to": "replies",
        "timestamp": 1700000000,
    }
    info = seen["delivery_info"]
    assert info["routing_key"] == queue
    assert info["exchange"] == ""
    assert info["redelivered"] is False
    assert info["delivery_tag"] == 1
    assert info["consumer_tag"]


def test_raising_consumer_is_replaced_and_its_message_redelivered(broker, daemon_factory, tmp_path):
    queue, go = broker.queue_name(), tmp_path / "go"
    daemon = started(daemon_factory, consumer_config(queue, count=2, prefetch=2))
    broker.publish(queue, {"id": "bad", "do": ["raise-once"]})
    wait_for(lambda: len(daemon.records("done")) == 1, what="the redelivery to succeed")
    deliveries = daemon.records("consume")
    assert [d["delivery_info"]["redelivered"] for d in deliveries] == [False, True]
    (shutdown,) = daemon.records("shutdown")
    assert shutdown["instance"] == deliveries[0]["instance"]
    assert shutdown["exception"] == "RuntimeError('scripted failure')"
    assert len(daemon.records("init")) == 3  # two at start, one replacement
    log = daemon.log()
    assert f"scripted:Scripted raised on queue '{queue}', delivery 1" in log
    assert "RuntimeError: scripted failure" in log  # the traceback
    # the pool is back to two instances: two messages in flight side by side
    broker.publish_many(queue, [{"id": n, "do": [["await-file", str(go)]]} for n in (1, 2)])
    wait_for(lambda: len(daemon.records("consume")) == 4, what="two in flight")
    go.touch()
    wait_for(lambda: len(daemon.records("done")) == 3)
    assert daemon.stop() == 0
    assert broker.messages(queue) == 0


def test_nack_and_reject_requeue(broker, daemon_factory):
    queue = broker.queue_name()
    daemon = started(daemon_factory, consumer_config(queue))
    broker.publish(queue, {"id": "n", "do": ["nack"]})
    wait_for(lambda: len(daemon.records("consume")) >= 3, what="the nacked message to come back")
    assert daemon.stop() == 0
    assert {r["id"] for r in daemon.records("consume")} == {"n"}
    assert broker.messages(queue) == 1  # still there: nack requeues


def test_answering_twice_raises_a_clear_error(broker, daemon_factory):
    queue = broker.queue_name()
    daemon = started(daemon_factory, consumer_config(queue))
    broker.publish(queue, {"id": 1, "do": ["twice"]})
    (second,) = wait_for(lambda: daemon.records("second-answer"))
    assert daemon.stop() == 0
    assert second["error"] == "AlreadyAnswered"
    assert second["message"] == "delivery 1 was already answered with ack"
    assert broker.messages(queue) == 0


def test_dead_lettering_through_x_dead_letter_exchange(broker, daemon_factory):
    queue, dead = broker.queue_name(), broker.queue_name("dead")
    exchange = broker.exchange_name("dlx")
    config = consumer_config(queue, x_dead_letter_exchange=exchange)
    config["exchanges"] = [{"exchange": exchange, "type": "fanout", "durable": False}]
    config["queues"].append({"queue": dead, "durable": False, "bindings": [{"exchange": exchange}]})
    daemon = started(daemon_factory, config)
    broker.publish(queue, {"id": "r", "do": ["reject"]})  # requeued once, then dropped
    broker.publish(queue, {"id": "d", "do": ["nack-drop"]})
    wait_for(lambda: broker.messages(dead) == 2, what="two dead letters")
    assert daemon.stop() == 0
    deaths = {body: props.headers["x-death"][0] for _, props, body in broker.get_all(dead)}
    assert {reason["reason"] for reason in deaths.values()} == {"rejected"}
    assert deaths[b'{"id": "r", "do": ["reject"]}']["queue"] == queue
    assert [r["delivery_info"]["redelivered"] for r in daemon.records("consume")].count(True) == 1
    assert broker.messages(queue) == 0


def test_a_missing_dead_letter_exchange_is_warned_of_and_an_existing_one_is_not(
    broker, daemon_factory
):
    lonely, served = broker.queue_name(), broker.queue_name()
    missing, existing = broker.exchange_name("missing"), broker.exchange_name("existing")
    broker.channel.exchange_declare(existing, "fanout", durable=False)
    config = consumer_config(lonely, x_dead_letter_exchange=missing)
    config["queues"].append(
        {"queue": served, "durable": False, "arguments": {"x-dead-letter-exchange": existing}}
    )
    daemon = started(daemon_factory, config)  # "ready" is logged after the check
    assert daemon.stop() == 0
    warnings = [line for line in daemon.log().splitlines() if "dead-letter exchange" in line]
    assert [line.partition(" WARNING ")[2] for line in warnings] == [
        f"[amqp-dispatcher.topology] {worker_label(daemon)}: "
        f"{daemon.config_path}: queues[0].x_dead_letter_exchange: "
        f"dead-letter exchange '{missing}' does not exist: messages dead-lettered from queue "
        f"'{lonely}' (nack or reject without requeue, expiry, overflow) are dropped"
    ]


def test_instances_get_their_options_and_names_may_come_from_the_environment(
    broker, daemon_factory
):
    queue = broker.queue_name()
    config = consumer_config("${JOBS_QUEUE}", count=2)
    config["consumers"][0] |= {
        "consumer": "scripted:Configured",
        "options": {"shop": "${SHOP}", "pin": "${PIN}", "retries": 3, "tags": ["a", {"b": None}]},
    }
    daemon = started(daemon_factory, config, JOBS_QUEUE=queue, SHOP="north", PIN="0042")
    broker.publish(queue, {"id": 1})
    wait_for(lambda: daemon.records("done"), what="the message consumed")
    assert daemon.stop() == 0
    options = {"shop": "north", "pin": "0042", "retries": 3, "tags": ["a", {"b": None}]}
    assert [record["options"] for record in daemon.records("options")] == [options, options]


def test_publish_from_a_consumer(broker, daemon_factory):
    queue, out = broker.queue_name(), broker.queue_name("out")
    config = consumer_config(queue)
    config["queues"].append(
        {
            "queue": out,
            "durable": False,
            "bindings": [{"exchange": "amq.direct", "routing_key": out}],
        }
    )
    daemon = started(daemon_factory, config)
    broker.publish(queue, {"id": 1, "do": [["publish", "amq.direct", out, "h\u00e9llo"]]})
    wait_for(lambda: broker.messages(out) == 1, what="the republished message")
    assert daemon.stop() == 0
    ((method, properties, body),) = broker.get_all(out)
    assert body == "h\u00e9llo".encode()
    assert properties.headers == {"from": "scripted"}
    assert properties.message_id == "m1"
    assert method.routing_key == out


def test_publish_errors_reach_the_consumer_and_consuming_goes_on(broker, daemon_factory):
    queue, out = broker.queue_name(), broker.queue_name("out")
    config = consumer_config(queue)
    config["queues"].append({"queue": out, "durable": False})
    daemon = started(daemon_factory, config)
    missing = broker.exchange_name("missing")
    broker.publish(queue, {"id": 1, "do": [["try-publish", missing, "k", "x", False]]})
    broker.publish(queue, {"id": 2, "do": [["try-publish", "", "no.such.queue", "x", True]]})
    broker.publish(queue, {"id": 3, "do": [["try-publish", "", out, "x", True]]})
    wait_for(lambda: len(daemon.records("done")) == 3)
    assert daemon.stop() == 0
    errors = [r["message"] for r in daemon.records("publish-error")]
    assert errors == [
        f"cannot publish to exchange '{missing}': "
        f"NOT_FOUND - no exchange '{missing}' in vhost '{BROKER.vhost}' (404)",
        "unroutable: NO_ROUTE (312)",
    ]
    assert len(daemon.records("published")) == 1
    assert broker.messages(out) == 1
    assert "the broker closed a publishing channel" not in daemon.log()  # checked beforehand
    assert broker.messages(queue) == 0


def listing(node: ThrowawayNode, command: str, *columns: str) -> dict[str, list[str]]:
    """rabbitmqctl's table as {name: [other columns]}."""
    lines = node.rabbitmqctl(command, "--no-table-headers", "name", *columns).splitlines()
    return {row[0]: row[1:] for row in (line.split("\t") for line in lines)}


def test_queue_arguments_reach_the_broker(node, node_broker, daemon_factory):
    queue, quorum = node_broker.queue_name(), node_broker.queue_name("quorum")
    config = consumer_config(
        queue,
        x_dead_letter_exchange="amq.fanout",
        x_dead_letter_routing_key="dead",
        x_max_length=100,
        x_expires=600000,
        x_message_ttl=60000,
        arguments={"x-max-priority": 5},
    )
    config["queues"].append({"queue": quorum, "x_queue_type": "quorum", "x_max_length": 7})
    daemon = started(daemon_factory, config, node)
    arguments = {name: row[0] for name, row in listing(node, "list_queues", "arguments").items()}
    assert daemon.stop() == 0
    for argument in (
        '{"x-dead-letter-exchange","amq.fanout"}',
        '{"x-dead-letter-routing-key","dead"}',
        '{"x-max-length",100}',
        '{"x-expires",600000}',
        '{"x-message-ttl",60000}',
        '{"x-max-priority",5}',
    ):
        assert argument in arguments[queue]
    assert '{"x-queue-type","quorum"}' in arguments[quorum]
    assert '{"x-max-length",7}' in arguments[quorum]


def daemon_timeout(daemon) -> int:
    return daemon_connection(daemon)[1]


def test_heartbeat_from_the_url_and_the_override(node, node_broker, daemon_factory):
    queue = node_broker.queue_name()
    config = consumer_config(queue)
    url = f"{node.url}?heartbeat=17"
    daemon = started(daemon_factory, config, node, RABBITMQ_URL=url)
    assert daemon_timeout(daemon) == 17
    assert daemon.stop() == 0
    override = started(daemon_factory, config, node, RABBITMQ_URL=url, RABBITMQ_HEARTBEAT="23")
    assert daemon_timeout(override) == 23
    assert override.stop() == 0
    default = started(daemon_factory, config, node, RABBITMQ_URL=f"{node.url}?heartbeat=None")
    assert daemon_timeout(default) == 60  # the broker's own value
    assert default.stop() == 0


def test_connection_name_tells_where_the_daemon_runs(node, node_broker, daemon_factory):
    daemon = started(daemon_factory, consumer_config(node_broker.queue_name()), node)
    name, _ = daemon_connection(daemon)
    assert daemon.stop() == 0
    assert name.startswith(f"{socket.gethostname()}-{daemon.workers()[1]}-w1-")


def test_dead_hosts_in_the_url_are_skipped(broker, daemon_factory):
    queue = broker.queue_name()
    url = broker_url(dead_hosts=("127.0.0.1:1", "127.0.0.1:2"), query="?connection_timeout=2000")
    daemon = started(daemon_factory, consumer_config(queue), RABBITMQ_URL=url)
    broker.publish(queue, {"id": 1})
    wait_for(lambda: daemon.records("done"))
    assert daemon.stop() == 0
    assert f"connected to {BROKER}" in daemon.log()


def test_consumers_that_yield_run_concurrently(broker, daemon_factory, tmp_path):
    queue, go = broker.queue_name(), tmp_path / "go"
    daemon = started(daemon_factory, consumer_config(queue, count=10, prefetch=10))
    broker.publish_many(queue, [{"id": n, "do": [["await-file", str(go)]]} for n in range(10)])
    wait_for(lambda: len(daemon.records("consume")) == 10, what="all ten in flight at once")
    go.touch()
    wait_for(lambda: len(daemon.records("done")) == 10)
    assert daemon.stop() == 0
    assert len({r["instance"] for r in daemon.records("consume")}) == 10


def test_sigterm_finishes_in_flight_work_and_loses_nothing(broker, daemon_factory):
    queue = broker.queue_name()
    daemon = started(daemon_factory, consumer_config(queue, count=3, prefetch=6))
    broker.publish_many(queue, [{"id": n, "do": [["sleep", 1.5]]} for n in range(20)])
    wait_for(lambda: len(daemon.records("consume")) == 3, what="three in flight")
    assert daemon.stop(signal.SIGTERM) == 0
    done = {r["id"] for r in daemon.records("done")}
    started_ids = {r["id"] for r in daemon.records("consume")}
    assert done == started_ids and len(done) >= 3  # every started message finished
    assert broker.messages(queue) == 20 - len(done)  # the rest, prefetched or not, came back
    assert len(daemon.records("shutdown")) == 3
    assert "SIGTERM received; stopping" in daemon.log()


def test_sigint_stops_as_cleanly(broker, daemon_factory):
    queue = broker.queue_name()
    daemon = started(daemon_factory, consumer_config(queue))
    assert daemon.stop(signal.SIGINT) == 0
    assert "Traceback" not in daemon.log()
    assert len(daemon.records("shutdown")) == 1


def test_shutdown_timeout_interrupts_stuck_consumers(broker, daemon_factory):
    queue = broker.queue_name()
    daemon = daemon_factory(consumer_config(queue, count=2, prefetch=2))
    daemon.start("--shutdown-timeout", "0.5").wait_ready()
    broker.publish_many(queue, [{"id": n, "do": [["sleep", 3600]]} for n in range(2)])
    wait_for(lambda: len(daemon.records("consume")) == 2)
    assert daemon.stop() == 0  # not an hour
    assert (
        "2 consume calls still running after the 0.5s grace period, of deliveries 1, 2; "
        "interrupted, the broker will deliver their messages again"
    ) in daemon.log()
    assert daemon.records("done") == []
    assert broker.messages(queue) == 2  # unanswered, so the broker kept them


def test_a_consumer_class_that_cannot_be_created_stops_the_start(broker, daemon_factory):
    queue = broker.queue_name()
    config = consumer_config(queue)
    config["consumers"][0]["consumer"] = "scripted:Broken"
    result = daemon_factory(config).run()
    assert result.returncode == 1
    assert "consumers[0]: cannot create scripted:Broken: ValueError('no database')" in result.stdout
    assert "Traceback" not in result.stdout


def test_queue_and_exchange_flags_reach_the_broker(node, node_broker, daemon_factory):
    queue, temporary = node_broker.queue_name(), node_broker.queue_name("temporary")
    exchange, internal = node_broker.exchange_name(), node_broker.exchange_name("internal")
    config = consumer_config(queue)
    config["queues"][0]["durable"] = True
    config["queues"].append(
        {"queue": temporary, "durable": False, "auto_delete": True, "exclusive": True}
    )
    config["exchanges"] = [
        {"exchange": exchange, "type": "topic", "arguments": {"alternate-exchange": "amq.fanout"}},
        {"exchange": internal, "type": "headers", "durable": False, "internal": True},
    ]
    daemon = started(daemon_factory, config, node)
    queues = listing(node, "list_queues", "durable", "auto_delete", "exclusive")
    exchanges = listing(
        node, "list_exchanges", "type", "durable", "auto_delete", "internal", "arguments"
    )
    assert daemon.stop() == 0
    assert queues[queue] == ["true", "false", "false"]
    assert queues[temporary] == ["false", "true", "true"]
    assert exchanges[exchange] == [
        "topic",
        "true",
        "false",
        "false",
        '[{"alternate-exchange","amq.fanout"}]',
    ]
    assert exchanges[internal] == ["headers", "false", "false", "true", "[]"]
    wait_for(  # exclusive: gone once the broker has done with the closed connection
        lambda: temporary not in listing(node, "list_queues"), what="the queue gone"
    )
    node_broker.queues.remove(temporary)


@pytest.mark.parametrize("kind", sorted(THROWABLES))
def test_a_consume_raising_a_base_exception_is_a_failure_like_any(broker, daemon_factory, kind):
    queue = broker.queue_name()
    daemon = started(daemon_factory, consumer_config(queue))
    broker.publish(queue, {"id": "bad", "do": [["throw-once", kind]]})
    wait_for(lambda: daemon.records("done"), what="the redelivery consumed by a replacement")
    (shutdown,) = daemon.records("shutdown")
    assert shutdown["instance"] == daemon.records("consume")[0]["instance"]
    assert len(daemon.records("init")) == 2
    assert f"scripted:Scripted raised on queue '{queue}', delivery 1" in daemon.log()
    assert daemon.stop() == 0
    assert "grace period" not in daemon.log()
    assert broker.messages(queue) == 0


def test_greenlets_a_consumer_spawns_report_their_errors_through_logging(broker, daemon_factory):
    queue = broker.queue_name()
    daemon = started(daemon_factory, consumer_config(queue))
    broker.publish(queue, {"id": 1, "do": ["spawn-failing"]})
    wait_for(lambda: daemon.records("done"))
    assert daemon.stop() == 0
    assert re.search(
        rf"ERROR \[amqp-dispatcher\] {WORKER}<Greenlet at \w+: _fail_in_a_greenlet> failed with "
        r"LookupError\nTraceback",
        daemon.log(),
    )
    assert "LookupError: lost in a greenlet of the consumer's own" in daemon.log()


def test_sighup_replaces_the_worker_and_the_daemon_carries_on(broker, daemon_factory):
    queue = broker.queue_name()
    daemon = started(daemon_factory, consumer_config(queue))
    daemon.process.send_signal(signal.SIGHUP)
    wait_for(lambda: "reloaded: 1 worker on the new config" in daemon.log())
    broker.publish(queue, {"id": 1})
    wait_for(lambda: daemon.records("done"))
    assert daemon.stop() == 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_second_signal_cuts_the_grace_period_short(broker, daemon_factory, tmp_path, signum):
    queue, never = broker.queue_name(), tmp_path / "never-created"
    daemon = daemon_factory(consumer_config(queue, count=2, prefetch=2))
    daemon.start("--shutdown-timeout", "3600").wait_ready()
    broker.publish_many(queue, [{"id": n, "do": [["await-file", str(never)]]} for n in (1, 2)])
    wait_for(lambda: len(daemon.records("consume")) == 2)
    daemon.process.send_signal(signum)
    wait_for(lambda: "received; stopping" in daemon.log())
    assert daemon.stop(signum, timeout=30) == 0  # not an hour
    log = daemon.log()
    name = signal.Signals(signum).name
    assert f"{name} received again; interrupting the running consume calls" in log
    assert "2 consume calls still running at the second signal, of deliveries 1, 2" in log
    assert daemon.records("done") == []
    assert len(daemon.records("shutdown")) == 2
    assert broker.messages(queue) == 2  # unanswered, so the broker kept them


def test_a_fatal_start_logs_its_error_first_then_stops(broker, daemon_factory):
    config = consumer_config("unused")
    missing = broker.queue_name("missing")
    config["consumers"][0]["queue"] = missing
    config["consumers"][0]["consumer"] = "oddities:LogsItsShutdown"
    result = daemon_factory(config).run()
    broker.queues.append("unused")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    error, arbiter = [i for i, line in enumerate(lines) if " ERROR " in line]
    assert lines[error].endswith(
        f"consumers[0]: cannot consume '{missing}': NOT_FOUND - no "
        f"queue '{missing}' in vhost '{BROKER.vhost}' (404)"
    )
    assert re.search(rf"INFO \[oddities\] {WORKER}shutdown\(None\)$", lines[error + 1])
    assert lines[arbiter].endswith("exited with status 1, which no restart mends")
    assert lines[-1].endswith("INFO [amqp-dispatcher] stopped")
    assert "subscribing again" not in result.stdout


def test_greenlets_a_consumer_spawns_cannot_end_the_daemon(broker, daemon_factory):
    queue = broker.queue_name()
    daemon = started(daemon_factory, consumer_config(queue))
    broker.publish(queue, {"id": 1, "do": ["spawn-exiting"]})
    broker.publish(queue, {"id": 2, "do": ["leave-timer"]})
    wait_for(lambda: len(daemon.records("done")) == 2)
    wait_for(lambda: "failed with SystemExit" in daemon.log(), what="the timer's report")
    broker.publish(queue, {"id": 3})
    wait_for(lambda: len(daemon.records("done")) == 3, what="consuming to go on")
    assert daemon.process.poll() is None
    assert daemon.stop() == 0
    log = daemon.log()
    assert re.search(
        rf"ERROR \[amqp-dispatcher\] {WORKER}<Greenlet .*exit>\(5\)> failed with SystemExit", log
    )
    assert "failed with KeyboardInterrupt" in log
    assert "SystemExit: 4" in log  # the timer left running


def test_sigterm_while_instances_are_created_stops_at_once(broker, daemon_factory):
    config = consumer_config(broker.queue_name(), count=3)
    config["consumers"][0]["consumer"] = "scripted:SlowToCreate"
    daemon = daemon_factory(config).start()
    wait_for(lambda: daemon.records("creating"), what="the first constructor")
    assert daemon.stop(timeout=30) == 0  # the constructor waits for a file that never comes
    assert "ready:" not in daemon.log()
    assert daemon.records("init") == []


def test_a_shutdown_that_hangs_does_not_hang_the_stop(broker, daemon_factory):
    config = consumer_config(broker.queue_name(), count=2)
    config["consumers"][0]["consumer"] = "scripted:HangsInShutdown"
    daemon = started(daemon_factory, config)
    assert daemon.stop(timeout=30) == 0
    assert len(daemon.records("shutting-down")) == 2  # called at once, side by side
    assert "2 shutdown() calls still running after 5s; no longer waited for" in daemon.log()


def test_sighup_during_the_startup_handler_does_not_kill(broker, daemon_factory):
    config = consumer_config(broker.queue_name())
    config["startup_handler"] = "scripted:startup_awaiting_file"
    daemon = daemon_factory(config).start()
    wait_for(lambda: daemon.records("startup"), what="the startup handler")
    daemon.process.send_signal(signal.SIGHUP)
    Path(str(daemon.record_path) + ".go").touch()
    daemon.wait_ready()
    wait_for(lambda: "reloaded: 1 worker on the new config" in daemon.log())
    assert daemon.stop() == 0
