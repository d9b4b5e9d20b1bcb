"""The HTTP endpoint: its paths, the arbiter's metrics; its settings: nothing of it imported
without a port; a bad http block or --http-port refused before the start."""

import json
import subprocess
import sys

import pytest
from daemons import consumer_config

from amqpdispatcher.errors import EXIT_CONFIG
from amqpdispatcher.http import ArbiterStats, Endpoint

from .scraping import call, sample, scrape


def test_without_a_port_nothing_of_the_endpoint_is_imported():
    check = (
        "import sys\n"
        "from amqpdispatcher import cli\n"
        "from amqpdispatcher.config import parse_config\n"
        "config = parse_config({'consumers': [{'consumer': 'a:B', 'queue': 'q'}]}, 'c')\n"
        "assert cli._endpoint(config, None, None) is None\n"
        "endpoint = {'prometheus_client', 'amqpdispatcher.http', 'gevent.pywsgi'}\n"
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
    samples = scrape(directory, ArbiterStats(running=3, restarts=2))
    assert sample(samples, "workers") == 3
    assert sample(samples, "worker_restarts_total") == 2


@pytest.mark.parametrize(
    ("ready", "status"), [(True, "200 OK"), (False, "503 Service Unavailable")]
)
def test_the_paths_of_the_endpoint(directory, ready, status):
    state = {"ready": ready, "workers": {"1": {"ready": ready}}}
    endpoint = Endpoint(directory, ArbiterStats(), lambda: state)
    assert call(endpoint, "/readyz") == (status, json.dumps(state))
    assert call(endpoint, "/healthz") == ("200 OK", json.dumps({"alive": True}))
    assert call(endpoint, "/nothing")[0] == "404 Not Found"
