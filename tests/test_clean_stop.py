"""A clean stop is quiet: operators alert on ERROR lines, so a SIGTERM or SIGINT after ordinary
work, publishing included, and after a reconnection, logs nothing at WARNING or above."""

import re
import signal

import pytest
from daemons import consumer_config, daemon_connection
from test_daemon import started
from waiting import wait_for

LOUD = re.compile(r"^.* (?:WARNING|ERROR|CRITICAL) \[.*$", re.MULTILINE)


def loud_lines_of_the_stop(log: str) -> list[str]:
    """The lines at WARNING or above from the stop signal on."""
    stop = re.search(r"^.* (SIGTERM|SIGINT) received; stopping$", log, re.MULTILINE)
    assert stop, f"no stop in the log:\n{log}"
    return LOUD.findall(log[stop.start() :])


def publishing(out: str, id_: int) -> dict:
    return {"id": id_, "do": [["publish", "", out, f"copy {id_}"], "ack"]}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_after_consuming_and_publishing_logs_nothing_loud(broker, daemon_factory, signum):
    queue, out = broker.queue_name(), broker.queue_name("out")
    broker.channel.queue_declare(out)
    # Durable: a transient queue is warned of (RabbitMQ 4.3 refuses it by default).
    daemon = started(daemon_factory, consumer_config(queue, count=2, durable=True))
    broker.publish(queue, publishing(out, 1))
    broker.publish(queue, {"id": 2})
    wait_for(lambda: len(daemon.records("done")) == 2, what="both consumed")
    assert daemon.stop(signum) == 0
    assert "] stopped" in daemon.log()
    assert LOUD.findall(daemon.log()) == [], daemon.log()
    assert broker.messages(out) == 1


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_after_a_reconnection_logs_nothing_loud(node_broker, daemon_factory, signum):
    queue, out = node_broker.queue_name(), node_broker.queue_name("out")
    node_broker.channel.queue_declare(out)
    daemon = started(daemon_factory, consumer_config(queue), node_broker.node)
    node_broker.publish(queue, publishing(out, 1))
    wait_for(lambda: daemon.records("done"), what="the first message consumed")
    name, _ = daemon_connection(daemon)
    node_broker.node.close_connection(name)
    node_broker.node.close_connection(f"{name}-publisher")
    wait_for(lambda: daemon.log().count("ready:") == 2, what="reconnection")
    node_broker.publish(queue, publishing(out, 2))  # opens the publishing connection again
    wait_for(lambda: len(daemon.records("done")) == 2, what="the second message consumed")
    assert daemon.stop(signum) == 0
    assert "lost the connection to" in daemon.log()  # the loss itself is worth a warning
    assert loud_lines_of_the_stop(daemon.log()) == [], daemon.log()
    assert node_broker.messages(out) == 2
