"""Fixtures for tests against the real broker: a test-side client, and the daemon run as a
subprocess through its real command line."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pika
import pytest
import trustme
import yaml
from nodes import Node, ThrowawayNode

from amqpdispatcher.url import DEFAULT_URL, mask, parse_url

TESTS = Path(__file__).parent
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


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def daemon_connection(daemon) -> tuple[str, int]:
    """The connection_name and heartbeat timeout of the daemon's connection, as its node lists
    them (a throwaway node: rabbitmqctl reaches no other); found by the daemon's pid inside its
    HOSTNAME-PID-RANDOM connection_name."""
    pattern = re.compile(rf'"connection_name","([^"]*-{daemon.process.pid}-[0-9a-f]{{8}})"')

    def find():
        columns = ("--no-table-headers", "timeout", "client_properties")
        for line in daemon.node.rabbitmqctl("list_connections", *columns).splitlines():
            timeout, _, properties = line.partition("\t")
            match = pattern.search(properties)
            if match:
                return match.group(1), int(timeout)
        return None

    return wait_for(find, what="the daemon's connection")


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


class Daemon:
    """`amqp-dispatcher` run as a subprocess on `node`, its log in a file and its consumers'
    records in another (see scripted.py)."""

    def __init__(
        self, directory: Path, config: dict | str, env: dict[str, str], node: Node = SHARED
    ) -> None:
        self.node = node
        self.config_path = directory / "config.yml"
        text = config if isinstance(config, str) else yaml.safe_dump(config, sort_keys=False)
        self.config_path.write_text(text)
        self.log_path = directory / "daemon.log"
        self.record_path = directory / "records.jsonl"
        self.env = {
            **os.environ,
            "RABBITMQ_URL": node.url,
            "PYTHONPATH": str(TESTS),
            "RECORD_FILE": str(self.record_path),
            **env,
        }
        self.process: subprocess.Popen | None = None

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "amqpdispatcher", "--config", str(self.config_path), *args]

    def start(self, *args: str, max_files: int | None = None) -> Daemon:
        """Start the daemon, with at most `max_files` file descriptors if given."""
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command(*args),
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                preexec_fn=lambda: _prepare_child(max_files),
            )
        return self

    def run(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        """Run to completion (for runs expected to exit by themselves); stdout has stderr too."""
        return subprocess.run(
            self.command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
            timeout=timeout,
        )

    def wait_ready(self, timeout: float = 20.0) -> Daemon:
        wait_for(lambda: "ready:" in self.log() or self.process.poll() is not None, timeout)
        assert self.process.poll() is None, f"daemon exited early:\n{self.log()}"
        return self

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 40.0) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def records(self, event: str | None = None) -> list[dict]:
        if not self.record_path.exists():
            return []
        # Only whole lines: the daemon may be halfway through appending the last one.
        lines = self.record_path.read_text().split("\n")[:-1]
        records = [json.loads(line) for line in lines]
        return [r for r in records if event is None or r["event"] == event]

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _prepare_child(max_files: int | None) -> None:
    """SIGINT as a terminal leaves it, for the tests that send it: a shell starts a background
    job, and so the tests run in one, with SIGINT ignored, which its children would inherit.
    And the soft limit on file descriptors lowered to `max_files`, if given."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if max_files is not None:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max_files, hard))


@pytest.fixture
def broker() -> Iterator[Broker]:
    """The test's client of the shared broker."""
    with Broker(SHARED) as client:
        yield client


@pytest.fixture(scope="session")
def node() -> Iterator[ThrowawayNode]:
    """A RabbitMQ node of the session's own, booted for the first test that asks for it, for
    the tests that act on a whole broker: the shared one may serve other applications."""
    with ThrowawayNode.fresh() as node:
        yield node


@pytest.fixture
def node_broker(node) -> Iterator[Broker]:
    """The test's client of the session's throwaway node."""
    with Broker(node) as client:
        yield client


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """A certificate authority for TLS endpoints in front of the broker."""
    return trustme.CA()


@pytest.fixture
def daemon_factory(tmp_path):
    daemons: list[Daemon] = []

    def make(config: dict | str, node: Node = SHARED, **env: str) -> Daemon:
        directory = tmp_path / f"daemon{len(daemons)}"
        directory.mkdir()
        daemon = Daemon(directory, config, env, node)
        daemons.append(daemon)
        return daemon

    yield make
    for daemon in daemons:
        daemon.kill()


def consumer_config(queue: str, count: int = 1, prefetch: int = 1, **queue_keys) -> dict:
    """A config with one queue and the Scripted consumer on it."""
    return {
        "queues": [{"queue": queue, "durable": False, **queue_keys}],
        "consumers": [
            {
                "consumer": "scripted:Scripted",
                "queue": queue,
                "consumer_count": count,
                "prefetch_count": prefetch,
            }
        ],
    }


def pytest_report_header() -> str:
    return (
        f"broker: {mask(SHARED.url)} (RABBITMQ_URL), reached over AMQP only; the tests that"
        " need rabbitmqctl start throwaway nodes of their own with rabbitmq-server from PATH"
    )


def pytest_terminal_summary(terminalreporter):
    harness = sys.modules.get("harness")  # tests/faults/harness.py, when the faults ran
    if harness is not None and harness.OUTCOMES:
        harness.report(terminalreporter)
