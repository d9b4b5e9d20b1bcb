"""`amqp-dispatcher replay`: archived messages back to their work queue, against the broker."""

import contextlib
import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from archived import ORIGIN, archive
from brokers import BROKER, Broker, broker_url
from daemons import consumer_config
from nodes import Node
from proxy import Proxy
from waiting import wait_for

from amqpdispatcher.url import parse_url

MANY = 5000  # for a replay to stop halfway, with time to spare


def command(daemon, queue: str) -> list[str]:
    config = str(daemon.config_path)
    return [sys.executable, "-m", "amqpdispatcher", "replay", "--config", config, "--queue", queue]


def replay(daemon, queue: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*command(daemon, queue), *args], capture_output=True, text=True, env=daemon.env, timeout=60
    )


def start_replay(daemon, queue: str, stderr: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        command(daemon, queue),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if stderr is None else stderr.open("w"),
        text=True,
        env=daemon.env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


@contextlib.contextmanager
def proxied() -> Iterator[Proxy]:
    proxy = Proxy((BROKER.host, BROKER.port))
    try:
        yield proxy
    finally:
        proxy.close()


def proxy_url(proxy: Proxy) -> str:
    return broker_url(address=f"127.0.0.1:{proxy.port}")


def ids(broker, queue: str) -> list[int]:
    return [json.loads(body)["id"] for _method, _properties, body in broker.get_all(queue)]


def moved(stdout: str, queue: str) -> int:
    match = re.fullmatch(rf"moved (\d+) messages? from '{queue}\.archive' to '{queue}'\n", stdout)
    assert match, stdout
    return int(match.group(1))


def assert_nothing_lost(broker, queue: str, count: int, total: int) -> None:
    """After a replay that moved `count` of `total` messages and stopped short: the first
    `count` in the work queue, in order, and the rest in the archive, one of them maybe in both
    (its copy sent, but not confirmed; or confirmed, but its ack lost)."""
    back, left = ids(broker, queue), ids(broker, f"{queue}.archive")
    assert back in (list(range(count)), list(range(count + 1)))
    assert len(set(back) & set(left)) <= 1
    assert sorted(set(back) | set(left)) == list(range(total))


def errors(stderr: str) -> list[str]:
    assert "Traceback" not in stderr
    return [line for line in stderr.splitlines() if " ERROR " in line]


def test_every_archived_message_goes_back_without_its_failure(broker, daemon_factory):
    queue = broker.queue_name()
    archived = archive(broker, queue, 5)
    result = replay(daemon_factory(consumer_config(queue)), queue)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"moved 5 messages from '{archived}' to '{queue}'\n"
    assert errors(result.stderr) == []
    got = broker.get_all(queue)
    assert [json.loads(body)["id"] for _method, _properties, body in got] == [0, 1, 2, 3, 4]
    for n, (method, properties, _body) in enumerate(got):
        assert (method.exchange, method.routing_key) == ("", queue)
        assert properties.message_id == f"m{n}"
        assert properties.content_type == "application/json"
        assert properties.delivery_mode == 2
        assert properties.headers == {**ORIGIN, "tenant": "acme"}
    assert broker.messages(archived) == 0


def test_limit_moves_the_first_messages_only(broker, daemon_factory):
    queue = broker.queue_name()
    archived = archive(broker, queue, 5)
    result = replay(daemon_factory(consumer_config(queue)), queue, "--limit", "2")
    assert result.returncode == 0, result.stderr
    assert moved(result.stdout, queue) == 2
    assert ids(broker, queue) == [0, 1]
    assert ids(broker, archived) == [2, 3, 4]


def test_a_fixed_consumer_then_acks_the_replayed_messages(broker, daemon_factory):
    queue = broker.queue_name()
    archived = archive(broker, queue, 3)
    daemon = daemon_factory(consumer_config(queue))
    assert replay(daemon, queue).returncode == 0
    daemon.start().wait_ready()
    wait_for(lambda: len(daemon.records("done")) == 3, what="the replayed messages")
    assert daemon.stop() == 0
    consumed = daemon.records("consume")
    assert [record["id"] for record in consumed] == [0, 1, 2]
    assert all("x-retry-count" not in record["headers"] for record in consumed)
    assert broker.messages(queue) == 0
    assert broker.messages(archived) == 0


def test_an_empty_archive_moves_nothing(broker, daemon_factory):
    queue = broker.queue_name()
    archive(broker, queue, 0)
    result = replay(daemon_factory(consumer_config(queue)), queue)
    assert result.returncode == 0, result.stderr
    assert moved(result.stdout, queue) == 0


def test_a_missing_archive_is_named(broker, daemon_factory):
    queue = broker.queue_name()
    result = replay(daemon_factory(consumer_config(queue)), queue)
    assert result.returncode == 1
    assert result.stdout == ""
    (error,) = errors(result.stderr)
    assert error.endswith(
        f"ERROR [amqp-dispatcher] archive queue '{queue}.archive': NOT_FOUND - no queue "
        f"'{queue}.archive' in vhost '{BROKER.vhost}' (404)"
    )


def test_a_copy_the_broker_refuses_leaves_its_message_in_the_archive(broker, daemon_factory):
    queue = broker.queue_name("missing")  # no such queue: the mandatory copy is unroutable
    archived = archive(broker, queue, 2, work_queue=False)
    result = replay(daemon_factory(consumer_config(queue)), queue)
    assert result.returncode == 1
    assert moved(result.stdout, queue) == 0
    (error,) = errors(result.stderr)
    assert error.endswith(
        f"ERROR [amqp-dispatcher] cannot move message 'm0' to '{queue}': unroutable: NO_ROUTE "
        f"(312); stopped after moving 0 messages, the rest stays in '{archived}'"
    )
    assert ids(broker, archived) == [0, 1]


def test_a_message_that_cannot_be_moved_stays_and_the_others_move(
    node, node_broker, daemon_factory
):
    """An archived message with the user_id of another user: the broker refuses its copy from
    the replaying user (406), closing the channel. Before, every run stopped there."""
    user, queue = node_broker.queue_name("user"), node_broker.queue_name()
    archived = f"{queue}.archive"
    node_broker.queues.append(archived)
    node_broker.channel.queue_declare(queue)
    node_broker.channel.queue_declare(archived)
    node.rabbitmqctl("add_user", user, "secret")
    try:
        node.rabbitmqctl("set_permissions", user, ".*", ".*", ".*")
        url = f"amqp://{quote(user)}:secret@127.0.0.1:{node.amqp_port}/"
        for n in range(2):
            node_broker.publish(archived, {"id": n}, message_id=f"m{n}")
        with Broker(Node(url)) as theirs:
            theirs.publish(archived, {"id": 2}, message_id="m2", user_id=user)
        wait_for(lambda: node_broker.messages(archived) == 3, what="the third one in its place")
        for n in range(3, 5):
            node_broker.publish(archived, {"id": n}, message_id=f"m{n}")
        daemon = daemon_factory(consumer_config(queue), node=node)
        first, again = replay(daemon, queue), replay(daemon, queue)
    finally:
        node.rabbitmqctl("delete_user", user)
    assert (first.returncode, again.returncode) == (1, 1)
    left = "left 1 message that cannot be moved"
    assert first.stdout == f"moved 4 messages from '{archived}' to '{queue}'; {left}\n"
    assert again.stdout == f"moved 0 messages from '{archived}' to '{queue}'; {left}\n"
    (error,) = errors(first.stderr)
    assert error.endswith(
        f"ERROR [amqp-dispatcher] message 'm2', at position 3 in '{archived}', cannot be moved "
        f"to '{queue}': PRECONDITION_FAILED - user_id property set to '{user}' but "
        "authenticated user was 'guest' (406); left in the archive"
    )
    assert ids(node_broker, queue) == [0, 1, 3, 4]
    assert ids(node_broker, archived) == [2]


def test_config_problems_stop_the_replay_before_the_broker(broker, daemon_factory):
    queue = broker.queue_name()
    daemon = daemon_factory({"consumers": [{"queue": queue}]})
    result = replay(daemon, queue)
    assert result.returncode == 78
    assert f"{daemon.config_path}: consumers[0].consumer: is required" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_signal_leaves_the_rest_in_the_archive(broker, daemon_factory, signum, status):
    queue, total = broker.queue_name(), MANY
    archived = archive(broker, queue, total)
    process = start_replay(daemon_factory(consumer_config(queue)), queue)
    wait_for(lambda: broker.messages(queue) > 0, what="the first messages moved")
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == status, stderr
    count = moved(stdout, queue)
    assert 0 < count < total
    assert ids(broker, queue) == list(range(count))
    assert ids(broker, archived) == list(range(count, total))


def test_a_lost_connection_leaves_the_rest_in_the_archive(broker, daemon_factory):
    queue, total = broker.queue_name(), MANY
    archived = archive(broker, queue, total)
    with proxied() as proxy:
        daemon = daemon_factory(consumer_config(queue), RABBITMQ_URL=proxy_url(proxy))
        (target,) = parse_url(proxy_url(proxy))
        process = start_replay(daemon, queue)
        wait_for(lambda: broker.messages(queue) > 0, what="the first messages moved")
        proxy.cut()
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 1, stderr
    count = moved(stdout, queue)
    (error,) = errors(stderr)
    assert re.search(
        rf"ERROR \[amqp-dispatcher\] lost the connection to {re.escape(str(target))}: "
        rf".+; stopped after moving {count} messages?, the rest stays in "
        rf"'{re.escape(archived)}'$",
        error,
    )
    assert_nothing_lost(broker, queue, count, total)


def test_a_second_signal_abandons_the_message_in_hand(broker, daemon_factory, tmp_path):
    queue, total = broker.queue_name(), MANY
    archived = archive(broker, queue, total)
    log = tmp_path / "replay.log"
    with proxied() as proxy:
        daemon = daemon_factory(consumer_config(queue), RABBITMQ_URL=proxy_url(proxy))
        process = start_replay(daemon, queue, stderr=log)
        wait_for(lambda: broker.messages(queue) > 0, what="the first messages moved")
        proxy.blackhole()  # the message in hand is never confirmed
        process.send_signal(signal.SIGINT)
        wait_for(lambda: "stopping after the message in hand" in log.read_text())
        process.send_signal(signal.SIGINT)
        stdout, _ = process.communicate(timeout=30)
    assert process.returncode == 130, log.read_text()
    count = moved(stdout, queue)
    assert "SIGINT received again; the message in hand stays in the archive" in log.read_text()
    wait_for(lambda: broker.messages(queue) + broker.messages(archived) >= total)
    assert_nothing_lost(broker, queue, count, total)
