"""Fixtures for the tests: a test-side client of the broker, the daemon run as a subprocess
through its real command line (brokers.py, daemons.py), and TLS endpoints (tls_endpoints.py),
one of which the unit tests use too. The tests outside tests/unit/ are marked `broker`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from brokers import SHARED, Broker
from daemons import Daemon
from nodes import Node, ThrowawayNode
from tls_endpoints import hanging_up

from amqpdispatcher.url import Target, mask

TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests outside tests/unit/ need the broker: `pytest -m "not broker"` leaves them out."""
    for item in items:
        if TESTS in item.path.parents and TESTS / "unit" not in item.path.parents:
            item.add_marker(pytest.mark.broker)


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
def ca_file(ca, tmp_path) -> str:
    """The certificate of `ca`, in a file."""
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def eof(ca_file) -> Iterator[Target]:
    """A TLS endpoint that hangs up in the handshake."""
    with hanging_up(ca_file) as target:
        yield target


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


def pytest_report_header() -> str:
    return (
        f"broker: {mask(SHARED.url)} (RABBITMQ_URL), reached over AMQP only; the tests that"
        " need rabbitmqctl start throwaway nodes of their own with rabbitmq-server from PATH"
    )


def pytest_terminal_summary(terminalreporter):
    harness = sys.modules.get("harness")  # tests/harness.py, when a fault test ran
    if harness is not None and harness.OUTCOMES:
        harness.report(terminalreporter)
