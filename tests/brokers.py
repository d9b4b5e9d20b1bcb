"""The broker the tests share, and the tests' own client of a node."""

from __future__ import annotations

import json
import os
import uuid
from urllib.parse import quote

import pika
from nodes import Node, free_port

from amqpdispatcher.url import DEFAULT_URL, Target, parse_url

SHARED = Node(os.environ.get("RABBITMQ_URL") or DEFAULT_URL)
(BROKER,) = parse_url(SHARED.url)  # the tests' own client takes a single-host URL


def broker_url(
    password: str | None = None,
    dead_hosts: tuple[str, ...] = (),
    query: str = "",
    address: str | None = None,
    scheme: str = "amqp",
) -> str:
    """RABBITMQ_URL for the daemon under test: the test's broker's credentials and vhost, at its
    address or at `address` (a proxy in front of it), after `dead_hosts`."""
    hosts = ",".join((*dead_hosts, address or f"{BROKER.host}:{BROKER.port}"))
    credentials = f"{quote(BROKER.username)}:{quote(password or BROKER.password)}"
    return f"{scheme}://{credentials}@{hosts}/{quote(BROKER.vhost, safe='')}{query}"


def dead_target() -> Target:
    """A target on a free port of loopback, where no broker answers."""
    (target,) = parse_url(f"amqp://guest:guest@127.0.0.1:{free_port()}/")
    return target


class Broker:
    """The test's own client of `node`. Every name it hands out is unique and deleted when the
    client is used as a context manager and exits."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.queues: list[str] = []
        self.exchanges: list[str] = []
        self.reconnect()

    def reconnect(self) -> None:
        """A new connection, after a test closed the broker's connections or restarted it."""
        self.connection = pika.BlockingConnection(pika.URLParameters(self.node.url))
        self.channel = self.connection.channel()

    def server_properties(self) -> dict:
        """What the broker announced in connection.start: product, version... pika's
        BlockingConnection has no public accessor for them."""
        return self.connection._impl.server_properties

    def queue_name(self, label: str = "q") -> str:
        name = f"test.{label}.{uuid.uuid4().hex[:8]}"
        self.queues.append(name)
        return name

    def exchange_name(self, label: str = "x") -> str:
        name = f"test.{label}.{uuid.uuid4().hex[:8]}"
        self.exchanges.append(name)
        return name

    def publish(self, routing_key: str, work: dict | str, exchange: str = "", **properties):
        body = work if isinstance(work, str) else json.dumps(work)
        properties.setdefault("delivery_mode", 2)
        self.channel.basic_publish(exchange, routing_key, body, pika.BasicProperties(**properties))

    def publish_many(self, queue: str, works: list[dict]) -> None:
        for work in works:
            self.publish(queue, work)

    def declare_ok(self, queue: str):
        """The queue's DeclareOk (message_count counts ready messages), or None if missing."""
        channel = self.connection.channel()
        try:
            return channel.queue_declare(queue, passive=True).method
        except pika.exceptions.ChannelClosedByBroker:
            return None
        finally:
            if channel.is_open:
                channel.close()

    def consumers(self, queue: str) -> int:
        ok = self.declare_ok(queue)
        return ok.consumer_count if ok else 0

    def messages(self, queue: str) -> int:
        return self.declare_ok(queue).message_count

    def get_all(self, queue: str) -> list[tuple]:
        got = []
        while True:
            method, properties, body = self.channel.basic_get(queue, auto_ack=True)
            if method is None:
                return got
            got.append((method, properties, body))

    def __enter__(self) -> Broker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self.channel.is_open:
            self.reconnect()
        for queue in self.queues:
            self.channel.queue_delete(queue)
        for exchange in self.exchanges:
            self.channel.exchange_delete(exchange)
        self.connection.close()
