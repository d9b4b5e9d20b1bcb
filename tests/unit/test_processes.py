"""Worker processes without a broker: the processes setting, the arbiter's restarts of a worker
that fails before it consumes, the protocol its workers speak to it, the worker's name in logs and
connection names, the modules a SIGHUP imports afresh."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import sys

import pytest
from cli_output import assert_clean_failure
from daemons import consumer_config
from waiting import wait_for

from amqpdispatcher import identity, notify
from amqpdispatcher.arbiter import FIRST_RESTART_DELAY, MAX_START_FAILURES
from amqpdispatcher.config import ConfigError, parse_config, process_count
from amqpdispatcher.errors import EXIT_FAILURE, EXIT_RESTART
from amqpdispatcher.logs import DEFAULT_FORMAT, JsonFormatter, TextFormatter
from amqpdispatcher.reimport import OwnModules
from amqpdispatcher.transport import connection_name

DEAD_URL = "amqp://guest:guest@127.0.0.1:1/"
ONE_CONSUMER = [{"consumer": "a:B", "queue": "q"}]


@pytest.mark.parametrize("value", [1, 8, 256, "auto"])
def test_processes_takes_a_count_or_auto(value):
    assert parse_config({"processes": value, "consumers": ONE_CONSUMER}, "f").processes == value


@pytest.mark.parametrize("value", [0, 257, True, "two", 1.5])
def test_processes_refuses_anything_else_naming_the_key(value):
    with pytest.raises(ConfigError) as raised:
        parse_config({"processes": value, "consumers": ONE_CONSUMER}, "f")
    (problem,) = raised.value.problems
    assert problem.startswith("processes: expected an integer from 1 to 256, or 'auto', got")


def test_auto_is_the_cpus_the_daemon_may_run_on():
    assert process_count("auto") == len(os.sched_getaffinity(0))
    assert process_count(3) == 3


@pytest.mark.parametrize("value", ["0", "257", "-1", "2.0", "many"])
def test_a_bad_processes_option_is_a_usage_error(daemon_factory, value):
    result = daemon_factory(consumer_config("jobs")).run("--processes", value)
    assert result.returncode == 2
    assert "argument --processes: expected a whole number from 1 to 256, or 'auto'" in result.stdout


@pytest.mark.parametrize("value", ["0", "0.5", "-1", "soon"])
def test_a_worker_timeout_under_a_second_is_a_usage_error(daemon_factory, value):
    result = daemon_factory(consumer_config("jobs")).run("--worker-timeout", value)
    assert result.returncode == 2
    assert f"argument --worker-timeout: expected seconds >= 1, got '{value}'" in result.stdout


def test_a_worker_failing_before_it_consumes_is_restarted_with_growing_delays(daemon_factory):
    config = consumer_config("jobs")
    config["consumers"][0]["consumer"] = "oddities:ExitsWhenCreated"
    daemon = daemon_factory(config, RABBITMQ_URL=DEAD_URL)
    result = daemon.run(timeout=60)
    assert_clean_failure(
        result,
        f"worker 1 failed to start {MAX_START_FAILURES} times in a row, the last time: exited "
        f"with status {EXIT_RESTART}; stopping",
        status=EXIT_FAILURE,
    )
    delays = re.findall(r"starting it again in ([0-9.]+)s$", result.stdout, re.M)
    expected = [FIRST_RESTART_DELAY * 2**n for n in range(MAX_START_FAILURES - 1)]
    assert [float(delay) for delay in delays] == expected
    assert result.stdout.count("cannot create oddities:ExitsWhenCreated") == MAX_START_FAILURES


def test_sigterm_stops_every_worker_while_no_broker_answers(daemon_factory):
    daemon = daemon_factory(consumer_config("jobs"), RABBITMQ_URL=DEAD_URL)
    daemon.start("--processes", "3")
    wait_for(lambda: daemon.log().count("retrying in") >= 3, what="three workers connecting")
    assert daemon.stop(signal.SIGTERM) == 0
    log = daemon.log()
    assert log.count("told by the arbiter; stopping") == 3
    assert log.rstrip().endswith("INFO [amqp-dispatcher] stopped")


def test_a_datagram_is_read_as_systemd_reads_it():
    fields = notify.parse(b"READY=1\nSTATUS=ready: 2 consumer pools\nno equals sign\nA=b=c")
    assert fields == {"READY": "1", "STATUS": "ready: 2 consumer pools", "A": "b=c"}


def test_a_heartbeat_carries_the_readiness(monkeypatch, tmp_path):
    path = str(tmp_path / "s")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as arbiter:
        arbiter.bind(path)
        monkeypatch.setenv("NOTIFY_SOCKET", path)
        notify.heartbeat({"ready": True})
        notify.heartbeat(None)
        first, second = notify.parse(arbiter.recv(4096)), notify.parse(arbiter.recv(4096))
    assert first == {"WATCHDOG": "1", "READINESS": '{"ready": true}'}
    assert second == {"WATCHDOG": "1"}


@pytest.fixture
def worker_3():
    identity.become_worker(3)
    yield
    identity._worker = None


def record(message: str) -> logging.LogRecord:
    return logging.LogRecord("amqp-dispatcher", logging.INFO, __file__, 1, message, None, None)


def test_a_workers_lines_and_connections_say_which_worker(worker_3):
    pid = os.getpid()
    text = TextFormatter(DEFAULT_FORMAT).format(record("ready"))
    assert text.endswith(f"INFO [amqp-dispatcher] worker=3 pid={pid}: ready")
    line = json.loads(JsonFormatter().format(record("ready")))
    assert (line["worker"], line["pid"], line["message"]) == (3, pid, "ready")
    assert re.fullmatch(rf".+-{pid}-w3-[0-9a-f]{{8}}", connection_name())


def test_outside_a_worker_nothing_is_added():
    assert identity.worker() is None
    assert TextFormatter(DEFAULT_FORMAT).format(record("ready")).endswith("] ready")
    assert "worker" not in json.loads(JsonFormatter().format(record("ready")))


def test_a_sighup_forgets_the_operators_modules_only(tmp_path, monkeypatch):
    (tmp_path / "deployed.py").write_text("VERSION = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    own = OwnModules()
    import email.mime.text  # noqa: F401  (the standard library: kept)

    import deployed  # noqa: F401

    own.loaded()
    assert "deployed" in own.names
    assert not any(name.startswith("email") for name in own.names)
    (tmp_path / "deployed.py").write_text("VERSION = 2\n")
    own.forget()
    assert "deployed" not in sys.modules
    import deployed as again

    assert again.VERSION == 2
    sys.modules.pop("deployed", None)
