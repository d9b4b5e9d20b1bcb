"""The example that `make example` runs: the sample config, its consumers and its publisher."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from daemons import Daemon
from waiting import wait_for

ROOT = Path(__file__).parent.parent


@pytest.fixture
def example_names(broker):
    broker.queues += ["example.work", "example.results", "example.dead-letters"]
    broker.exchanges.append("example.dead-letter")


def test_the_example_consumes_republishes_and_replaces(example_names, tmp_path):
    daemon = Daemon(tmp_path, (ROOT / "amqp-dispatcher-config.yml").read_text(), {})
    daemon.env["PYTHONPATH"] = str(ROOT)
    publisher = subprocess.Popen(  # first, as `make example` does: it waits for the daemon
        [sys.executable, "-m", "example.publisher", "--count", "20", "--wait"],
        cwd=ROOT,
        env=daemon.env,  # RABBITMQ_URL: the tests' broker
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        daemon.start().wait_ready()
        output, _ = publisher.communicate(timeout=90)
        assert publisher.returncode == 0, output
        wait_for(lambda: len(re.findall(r"handled item \d+", daemon.log())) == 20)
        assert daemon.stop() == 0
    finally:
        publisher.kill()
        daemon.kill()
    log = daemon.log()
    handled = sorted(int(n) for n in re.findall(r"handled item (\d+)", log))
    assert handled == list(range(1, 21))
    assert sorted(int(n) for n in re.findall(r"result of item (\d+)", log)) == [5, 10, 15, 20]
    assert "startup handler ran" in log
    failures = re.findall(r"^RuntimeError: item (\d+) fails on its first delivery$", log, re.M)
    assert failures == ["7", "14"] or failures == ["14", "7"]  # each instance then replaced
    assert len(re.findall(r"instance \d+ shut down \(RuntimeError", log)) == 2
