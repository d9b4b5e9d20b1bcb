"""The HTTP endpoint: its paths, the arbiter's metrics; its settings: nothing of it imported
without a port; a bad http block or --http-port refused before the start."""

import json
import os
import socket
import subprocess
import sys

import gevent
import gevent.socket
import pytest
from daemons import consumer_config
from waiting import wait_for

from amqpdispatcher.errors import EXIT_CONFIG
from amqpdispatcher.http import Endpoint

from .scraping import Counts, call, sample, scrape


def test_without_a_port_nothing_of_the_endpoint_is_imported():
    check = (
        "import sys\n"
        "from amqpdispatcher import cli\n"
        "from amqpdispatcher.config import parse_config\n"
        "config = parse_config({'consumers': [{'consumer': 'a:B', 'queue': 'q'}]}, 'c')\n"
        "settings = cli.Settings('c', 30, 1, 30)\n"
        "assert settings.http_port_of(config) is None\n"
        "with cli._metrics_directory(None) as directory:\n"
        "    assert directory is None\n"
        "endpoint = {'prometheus_client', 'amqpdispatcher.http', 'amqpdispatcher.metricfiles',\n"
        "            'gevent.pywsgi'}\n"
        "assert not endpoint & sys.modules.keys(), endpoint & sys.modules.keys()\n"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_bad_http_block_or_port_is_refused_before_any_start(daemon_factory):
    config = consumer_config("jobs")
    config["http"] = {"port": 0, "adress": "0.0.0.0"}
    daemon = daemon_factory(config)
    result = daemon.run()
    assert result.returncode == EXIT_CONFIG, result.stdout
    assert [
        line.partition(" ERROR [amqp-dispatcher] ")[2] for line in result.stdout.splitlines()[-2:]
    ] == [
        f"{daemon.config_path}: http.port: expected an integer from 1 to 65535, got 0",
        f"{daemon.config_path}: http.adress: unknown key (did you mean 'address'?)",
    ]
    flag = daemon_factory(consumer_config("jobs")).run("--http-port", "http")
    assert flag.returncode == 2
    assert "--http-port: expected a port from 1 to 65535, got 'http'" in flag.stdout


def test_the_arbiter_counts_its_workers_and_their_restarts(directory):
    samples = scrape(directory, Counts(running=3, restarts=2))
    assert sample(samples, "workers") == 3
    assert sample(samples, "worker_restarts_total") == 2


@pytest.mark.parametrize(
    ("ready", "status"), [(True, "200 OK"), (False, "503 Service Unavailable")]
)
def test_the_paths_of_the_endpoint(directory, ready, status):
    state = {"ready": ready, "workers": {"1": {"ready": ready}}}
    endpoint = Endpoint(directory, Counts(), lambda: state)
    assert call(endpoint, "/readyz") == (status, json.dumps(state))
    assert call(endpoint, "/healthz") == ("200 OK", json.dumps({"alive": True}))
    assert call(endpoint, "/nothing")[0] == "404 Not Found"


def test_a_process_forked_from_the_arbiter_lets_go_of_the_endpoints_sockets(tmp_path):
    """The arbiter's workers are forked while it serves: with their copies let go of, a client
    sees the end of an answer the arbiter closed, and the port is free once the arbiter stops."""
    endpoint = Endpoint(str(tmp_path), Counts(), lambda: {"ready": True})
    endpoint.start("127.0.0.1", 0, 30)
    port = endpoint._server.server_port
    client = gevent.socket.create_connection(("127.0.0.1", port))
    client.sendall(b"GET /healthz HTTP/1.1\r\n")  # the rest after the fork
    wait_for(lambda: len(endpoint._server.connections) == 1, what="the connection admitted")
    done_reading, done_writing = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            gevent.reinit()
            endpoint.forget()
            os.read(done_reading, 1)  # alive, holding whatever it holds, until told
        finally:
            os._exit(0)
    try:
        client.sendall(b"Connection: close\r\n\r\n")
        answer = b""
        with gevent.Timeout(20, AssertionError("the connection was not closed")):
            while chunk := client.recv(4096):
                answer += chunk
        assert answer.endswith(b'{"alive": true}')
        endpoint.stop()
        with socket.socket() as again:  # past the closed connection's TIME_WAIT: no listener
            again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            again.bind(("127.0.0.1", port))
    finally:
        os.write(done_writing, b"x")
        os.waitpid(pid, 0)
        client.close()
