"""`amqp-dispatcher status` against the broker: queues with and without consumers, missing,
retry queues' depths; a running daemon's readiness and rates; unacked from the management API
of a throwaway node that has it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from brokers import Broker
from cli_output import assert_clean_failure
from daemons import consumer_config
from nodes import ThrowawayNode, free_port
from waiting import wait_for

from amqpdispatcher.errors import EXIT_CONFIG, EXIT_FAILURE

UNKNOWN_NOTE = "note: unacked unknown: the management API at"


def status(config: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "amqpdispatcher", "status", "--config", str(config), *args]
    environ = {**os.environ, **env}
    return subprocess.run(command, capture_output=True, text=True, env=environ, timeout=60)


def status_json(config: Path, *args: str, **env: str) -> tuple[int, dict]:
    result = status(config, "--json", *args, **env)
    assert "Traceback" not in result.stderr
    return result.returncode, json.loads(result.stdout)


def write_config(directory: Path, config: dict) -> Path:
    path = directory / "config.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def retry_config(consumed: str, idle: str, missing: str) -> dict:
    return {
        "consumers": [
            {
                "consumer": "app:Orders",
                "queue": consumed,
                "retry": {"max_retries": 2, "backoff": [5]},
            },
            {"consumer": "app:Refunds", "queue": idle},
            {"consumer": "app:Gone", "queue": missing},
        ]
    }


@pytest.fixture
def queues(broker, tmp_path) -> tuple[Path, str, str, str]:
    """A config of three queues: one consumed by the test, its delay queue holding 2 messages
    and its archive 1; one holding 3 messages and no consumer; one missing."""
    consumed, idle, missing = broker.queue_name(), broker.queue_name(), broker.queue_name()
    delay, archive = f"{consumed}.delay.5s", f"{consumed}.archive"
    broker.queues += [delay, archive]
    for name in (consumed, idle, delay, archive):
        broker.channel.queue_declare(name)
    broker.publish_many(idle, [{"id": n} for n in range(3)])
    broker.publish_many(delay, [{"id": n} for n in range(2)])
    broker.publish(archive, {"id": 0})
    broker.channel.basic_consume(consumed, lambda *delivery: None)
    return write_config(tmp_path, retry_config(consumed, idle, missing)), consumed, idle, missing


def dead_management() -> dict[str, str]:
    return {"RABBITMQ_MANAGEMENT_URL": f"http://127.0.0.1:{free_port()}"}


def test_the_table_shows_each_queue_its_retry_queues_and_the_problems(queues):
    config, consumed, idle, missing = queues
    result = status(config, **dead_management())
    assert result.returncode == EXIT_FAILURE, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert [line.split() for line in lines[:6]] == [
        ["QUEUE", "READY", "UNACKED", "CONSUMERS", "CONSUMER", "CLASSES"],
        [consumed, "0", "?", "1", "app:Orders"],
        [f"{consumed}.delay.5s", "2", "?", "0", "(delay)"],
        [f"{consumed}.archive", "1", "?", "0", "(archive)"],
        [idle, "3", "?", "0", "app:Refunds"],
        [missing, "missing", "-", "-", "app:Gone"],
    ]
    notes = [line for line in lines if line.startswith("note: ")]
    assert len(notes) == 1
    assert notes[0].startswith(UNKNOWN_NOTE)
    assert "enable the rabbitmq_management plugin" in notes[0]
    assert lines[-2:] == [
        f"problem: queue '{idle}': no consumer",
        f"problem: queue '{missing}': does not exist",
    ]


def test_json_has_everything_and_the_same_exit_status(queues):
    config, consumed, idle, missing = queues
    code, found = status_json(config, **dead_management())
    assert code == EXIT_FAILURE
    assert found["ok"] is False
    assert found["problems"] == [
        f"queue '{idle}': no consumer",
        f"queue '{missing}': does not exist",
    ]
    first, second, third = found["queues"]
    assert first["name"] == consumed
    assert first["consumer_classes"] == ["app:Orders"]
    assert (first["exists"], first["ready"], first["consumers"], first["unacked"]) == (
        True,
        0,
        1,
        None,
    )
    assert [(q["name"], q["kind"], q["ready"]) for q in first["retry_queues"]] == [
        (f"{consumed}.delay.5s", "delay", 2),
        (f"{consumed}.archive", "archive", 1),
    ]
    assert (second["ready"], second["consumers"]) == (3, 0)
    assert (third["exists"], third["error"], third["ready"]) == (False, "does not exist", None)
    assert found["unacked"]["note"].startswith("unacked unknown: the management API at")
    assert found["daemon"] is None


def test_every_queue_there_and_consumed_exits_0(broker, tmp_path):
    queue = broker.queue_name()
    broker.channel.queue_declare(queue)
    broker.channel.basic_consume(queue, lambda *delivery: None)
    config = write_config(tmp_path, {"consumers": [{"consumer": "app:A", "queue": queue}]})
    result = status(config, **dead_management())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "problem:" not in result.stdout
    code, found = status_json(config, **dead_management())
    assert (code, found["ok"], found["problems"]) == (0, True, [])


def test_a_queue_the_broker_will_not_tell_of_is_a_problem_and_the_next_is_read(broker, tmp_path):
    locked, next_one = broker.queue_name(), broker.queue_name()
    broker.channel.queue_declare(locked, exclusive=True)  # the test's connection's alone
    broker.channel.queue_declare(next_one)
    broker.channel.basic_consume(next_one, lambda *delivery: None)
    entries = [{"consumer": "app:A", "queue": locked}, {"consumer": "app:A", "queue": next_one}]
    config = write_config(tmp_path, {"consumers": entries})
    code, found = status_json(config, **dead_management())
    assert code == EXIT_FAILURE
    (problem,) = found["problems"]
    assert problem.startswith(f"queue '{locked}': RESOURCE_LOCKED - ")
    assert problem.endswith("(405)")
    first, second = found["queues"]
    assert (first["exists"], first["ready"]) == (None, None)
    assert problem == f"queue '{locked}': {first['error']}"
    assert (second["exists"], second["ready"], second["consumers"]) == (True, 0, 1)
    table = status(config, **dead_management()).stdout.splitlines()
    assert table[1].split() == [locked, "error", "-", "-", "app:A"]


def test_a_bad_config_and_a_broker_out_of_reach(tmp_path):
    missing = tmp_path / "missing.yml"
    result = status(missing)
    assert_clean_failure(result, status=EXIT_CONFIG)
    assert f"{missing}:" in result.stderr
    config = write_config(tmp_path, {"consumers": [{"consumer": "app:A", "queue": "q"}]})
    result = status(config, RABBITMQ_URL=f"amqp://guest:guest@127.0.0.1:{free_port()}/")
    assert result.returncode == EXIT_FAILURE
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1
    assert "no broker reachable" in errors[0]
    assert "Traceback" not in result.stderr


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


def test_a_running_daemon_shows_ready_and_the_rates_of_what_it_consumes(broker, daemon_factory):
    queue, port = broker.queue_name(), free_port()
    daemon = daemon_factory(consumer_config(queue, count=2, prefetch=2))
    daemon.start("--http-port", str(port)).wait_ready()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "amqpdispatcher", "status", "--config"]
    command += [str(daemon.config_path), "--json", "--http-url", url, "--window", "2"]
    env = {**daemon.env, **dead_management()}
    run = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    published = 0
    while True:  # messages flow through the whole window, at a pace the daemon keeps up with
        try:
            stdout, stderr = run.communicate(timeout=0.01)
            break
        except subprocess.TimeoutExpired:
            broker.publish(queue, {"id": published, "do": ["ack"]})
            published += 1
    assert run.returncode == 0, stdout + stderr
    found = json.loads(stdout)
    daemon_found = found["daemon"]
    assert (daemon_found["ready"], daemon_found["status"]) == (True, 200)
    assert daemon_found["readiness"]["workers"]["1"]["consuming"] == {queue: True}
    rates = daemon_found["queues"][queue]
    counted = rates["counted"]
    assert 0 < counted["deliveries"] <= published
    assert 0 < counted["ack"] <= published
    assert counted["nack"] == counted["reject"] == counted["errors"] == 0
    assert counted["retries"] == counted["archived"] == 0
    assert rates["instances"] == 2
    seconds = daemon_found["seconds"]
    for name, count in counted.items():
        assert rates["per_second"][name] == pytest.approx(count / seconds)
    wait_for(lambda: len(daemon.records("done")) == published, 60, "every message consumed")
    assert daemon.stop() == 0


def test_a_daemon_not_ready_or_out_of_reach_fails_the_check(broker, daemon_factory, tmp_path):
    queue, port = broker.queue_name(), free_port()
    broker.channel.queue_declare(queue)
    broker.channel.basic_consume(queue, lambda *delivery: None)
    dead_broker = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    daemon = daemon_factory(consumer_config(queue), RABBITMQ_URL=dead_broker).start(
        "--http-port", str(port)
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: get(f"{url}/readyz")[0] == 503, what="the daemon's /readyz")
    result = status(daemon.config_path, "--http-url", url, **dead_management())
    assert result.returncode == EXIT_FAILURE, result.stdout + result.stderr
    assert f"daemon {url}: not ready (HTTP 503)" in result.stdout
    assert result.stdout.splitlines()[-1].startswith(f"problem: daemon {url}: not ready (HTTP 503)")
    daemon.kill()
    nobody = f"http://127.0.0.1:{free_port()}"
    code, found = status_json(daemon.config_path, "--http-url", nobody, **dead_management())
    assert code == EXIT_FAILURE
    assert found["daemon"]["reachable"] is False
    assert found["problems"] == [f"daemon {nobody}: not reachable: [Errno 111] Connection refused"]


@pytest.fixture(scope="module")
def managed() -> Iterator[tuple[ThrowawayNode, str]]:
    """A throwaway node with the management plugin on a port of its own, and the API's URL,
    once it answers."""
    port = free_port()
    settings = (
        f"management.tcp.port = {port}",
        "management.tcp.ip = 127.0.0.1",
        "collect_statistics_interval = 500",
    )
    with ThrowawayNode.fresh(settings=settings, plugins=("rabbitmq_management",)) as node:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: get(f"{url}/api/overview")[0] == 401, 60, "the management API")
        yield node, url


def test_unacked_comes_from_the_management_api(managed, tmp_path):
    node, url = managed
    with Broker(node) as client:
        queue = client.queue_name()
        client.channel.queue_declare(queue)
        client.publish_many(queue, [{"id": n} for n in range(5)])
        client.channel.basic_qos(prefetch_count=3)
        client.channel.basic_consume(queue, lambda *delivery: None)  # never acks

        def unacked() -> bool:
            request = urllib.request.Request(f"{url}/api/queues/%2F/{queue}")
            request.add_header("Authorization", "Basic Z3Vlc3Q6Z3Vlc3Q=")  # guest:guest
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return json.load(response).get("messages_unacknowledged") == 3
            except urllib.error.HTTPError:
                return False

        wait_for(unacked, 30, "the API to count 3 unacked")
        config = write_config(tmp_path, {"consumers": [{"consumer": "app:A", "queue": queue}]})
        code, found = status_json(config, "--management-url", url, RABBITMQ_URL=node.url)
        assert code == 0, found
        (row,) = found["queues"]
        assert (row["ready"], row["unacked"], row["consumers"]) == (2, 3, 1)
        assert found["unacked"] == {"source": url, "note": None}
        table = status(config, "--management-url", url, RABBITMQ_URL=node.url).stdout
        assert table.splitlines()[1].split() == [queue, "2", "3", "1", "app:A"]
        assert "note:" not in table
