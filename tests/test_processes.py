"""Worker processes (--processes, arbiter.py, worker.py) against the real broker: messages
spread over the workers, a killed or silent worker replaced, SIGHUP's rolling restart, the
daemon stopped whole, orphans that stop by themselves."""

from __future__ import annotations

import json
import os
import signal
import threading
from collections import Counter
from pathlib import Path

import pytest
from daemons import consumer_config
from nodes import alive, free_port
from test_http import get, samples
from waiting import wait_for

from amqpdispatcher.errors import EXIT_CONFIG


def started(daemon_factory, config: dict, *args: str, **env: str):
    return daemon_factory(config, **env).start(*args).wait_ready()


def done_ids(daemon) -> Counter:
    return Counter(record["id"] for record in daemon.records("done"))


@pytest.mark.parametrize("processes", [2, 3])
def test_messages_spread_over_the_workers_and_none_is_lost(broker, daemon_factory, processes):
    queue, count = broker.queue_name(), 5000
    config = consumer_config(queue, count=5, prefetch=20)
    daemon = started(daemon_factory, config, "--processes", str(processes))
    assert len(daemon.workers()) == processes
    broker.publish_many(queue, [{"id": n, "do": [["sleep", 0.001]]} for n in range(count)])
    wait_for(lambda: len(daemon.records("done")) >= count, timeout=120, what="every message")
    assert daemon.stop() == 0
    assert done_ids(daemon) == Counter(range(count))  # each once: 0 lost, 0 twice
    by_worker = Counter(record["pid"] for record in daemon.records("consume"))
    assert set(by_worker) == set(daemon.workers().values())  # each worker consumed some
    assert broker.messages(queue) == 0


def test_a_killed_worker_is_replaced_and_its_messages_redelivered(broker, daemon_factory):
    queue, count = broker.queue_name(), 400
    config = consumer_config(queue, count=5, prefetch=10)
    daemon = started(daemon_factory, config, "--processes", "2")
    victim = daemon.workers()[1]
    broker.publish_many(queue, [{"id": n, "do": [["sleep", 0.02]]} for n in range(count)])
    wait_for(lambda: any(r["pid"] == victim for r in daemon.records("consume")))
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: daemon.workers()[1] != victim, what="worker 1 started again")
    wait_for(lambda: len(done_ids(daemon)) == count, timeout=120, what="every message")
    assert daemon.stop() == 0
    log = daemon.log()
    assert f"worker 1 (pid {victim}) was killed by SIGKILL; starting it again" in log
    assert set(done_ids(daemon)) == set(range(count))  # 0 lost
    # What the killed worker had started but not answered came back, redelivered.
    redelivered = [r for r in daemon.records("consume") if r["delivery_info"]["redelivered"]]
    assert redelivered
    assert broker.messages(queue) == 0


def test_a_worker_without_heartbeat_is_killed_and_replaced(broker, daemon_factory, tmp_path):
    queue, fixed = broker.queue_name(), tmp_path / "fixed"
    daemon = started(
        daemon_factory, consumer_config(queue), "--worker-timeout", "2", "--max-blocking-time", "0"
    )
    stuck = daemon.workers()[1]
    broker.publish(queue, {"id": 1, "do": [["spin-until-file", str(fixed)]]})
    wait_for(lambda: f"worker 1 (pid {stuck}) sent no heartbeat for 2s; killing it" in daemon.log())
    wait_for(lambda: daemon.workers()[1] != stuck, what="worker 1 started again")
    fixed.touch()
    wait_for(lambda: daemon.records("done"), what="the message, redelivered")
    (last,) = [r for r in daemon.records("consume") if r["pid"] == daemon.workers()[1]]
    assert last["delivery_info"]["redelivered"]
    assert not alive(stuck)
    assert daemon.stop() == 0


def test_sigterm_drains_every_worker_and_exits_0(broker, daemon_factory, tmp_path):
    queue, go = broker.queue_name(), tmp_path / "go"
    config = consumer_config(queue, count=2, prefetch=2)
    daemon = started(daemon_factory, config, "--processes", "2")
    pids = set(daemon.workers().values())
    broker.publish_many(queue, [{"id": n, "do": [["await-file", str(go)]]} for n in range(4)])
    wait_for(lambda: {r["pid"] for r in daemon.records("consume")} == pids, what="both busy")
    daemon.process.send_signal(signal.SIGTERM)
    wait_for(lambda: daemon.log().count("told by the arbiter; stopping") == 2)
    started_calls = len(daemon.records("consume"))
    go.touch()
    assert daemon.process.wait(30) == 0
    assert len(daemon.records("done")) == started_calls  # every running call finished
    assert not any(alive(pid) for pid in pids)


def test_the_workers_of_a_killed_arbiter_stop_by_themselves(broker, daemon_factory):
    queue = broker.queue_name()
    daemon = started(daemon_factory, consumer_config(queue), "--processes", "2")
    pids = list(daemon.workers().values())
    wait_for(lambda: broker.consumers(queue) == 2)
    daemon.process.kill()
    daemon.process.wait()
    wait_for(lambda: not any(alive(pid) for pid in pids), what="the orphans' exit")
    assert daemon.log().count(f"the arbiter (pid {daemon.process.pid}) is gone; stopping") == 2
    assert broker.consumers(queue) == 0


def test_worker_numbers_in_the_logs_and_the_connection_names(broker, daemon_factory, node):
    queue = broker.queue_name()
    daemon = daemon_factory(consumer_config(queue), node=node)
    daemon.start("--processes", "2").wait_ready()
    log = daemon.log()
    for number, pid in daemon.workers().items():
        assert f"worker={number} pid={pid}: ready: 1 consumer pool" in log
    names = node.rabbitmqctl("list_connections", "--no-table-headers", "client_properties")
    for number, pid in daemon.workers().items():
        assert f"-{pid}-w{number}-" in names
    assert daemon.stop() == 0


class ConsumerWatch:
    """The queue's consumer count, read again and again from a thread of the test's own until
    stopped: its lowest."""

    def __init__(self, broker, queue: str) -> None:
        self._broker, self._queue = broker, queue
        self._stop = threading.Event()
        self.lowest: int | None = None
        self.reads = 0
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            count = self._broker.consumers(self._queue)
            self.reads += 1
            self.lowest = count if self.lowest is None else min(self.lowest, count)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.lowest


def test_sighup_rolls_the_workers_without_loss_duplicates_or_a_gap(node, daemon_factory):
    from brokers import Broker

    with Broker(node) as broker, Broker(node) as watcher:
        queue, count = broker.queue_name(), 2000
        config = consumer_config(queue, count=10, prefetch=10)
        daemon = daemon_factory(config, node=node).start("--processes", "2").wait_ready()
        before = set(daemon.workers().values())
        broker.publish_many(queue, [{"id": n, "do": [["sleep", 0.05]]} for n in range(count)])
        wait_for(lambda: len(daemon.records("done")) > 100)
        watch = ConsumerWatch(watcher, queue)
        daemon.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "reloaded: 2 workers on the new config" in daemon.log(), timeout=60)
        wait_for(lambda: len(done_ids(daemon)) == count, timeout=120, what="every message")
        lowest = watch.stop()
        assert daemon.stop() == 0
        assert watch.reads > 10
        assert lowest > 0  # some worker always consumed
        assert done_ids(daemon) == Counter(range(count))  # 0 lost, 0 done twice
        after = set(daemon.workers().values())
        assert not before & after  # every worker replaced
        assert broker.messages(queue) == 0


CONSUMER_V1 = """
from scripted import Scripted, record


class Versioned(Scripted):
    def consume(self, amqp, msg):
        record(event="version", version=1, id=msg.json()["id"])
"""


def versioned(daemon_factory, tmp_path: Path, queue: str, *args: str):
    """A daemon on `queue` running Versioned, version 1, from a module of the test's own; the
    module's path, to deploy another version."""
    code = tmp_path / "code"
    code.mkdir()
    module = code / "versioned.py"
    module.write_text(CONSUMER_V1)
    config = consumer_config(queue)
    config["consumers"][0]["consumer"] = "versioned:Versioned"
    tests = os.path.dirname(__file__)
    daemon = started(daemon_factory, config, *args, PYTHONPATH=f"{code}:{tests}")
    return daemon, module


def test_sighup_reimports_the_consumer_code(broker, daemon_factory, tmp_path):
    queue = broker.queue_name()
    daemon, module = versioned(daemon_factory, tmp_path, queue)
    broker.publish(queue, {"id": 1})
    wait_for(lambda: daemon.records("version"))
    module.write_text(CONSUMER_V1.replace("version=1", "version=2"))
    daemon.process.send_signal(signal.SIGHUP)
    wait_for(lambda: "reloaded: 1 worker on the new config" in daemon.log(), timeout=30)
    broker.publish(queue, {"id": 2})
    wait_for(lambda: len(daemon.records("version")) == 2)
    assert [r["version"] for r in daemon.records("version")] == [1, 2]
    assert daemon.stop() == 0


def test_sighup_onto_code_that_cannot_import_keeps_the_old_workers(
    broker, daemon_factory, tmp_path
):
    queue = broker.queue_name()
    daemon, module = versioned(daemon_factory, tmp_path, queue, "--processes", "2")
    before = daemon.workers()
    module.write_text("raise RuntimeError('half-deployed')\n")
    daemon.process.send_signal(signal.SIGHUP)
    wait_for(lambda: "the reload is abandoned" in daemon.log(), timeout=30)
    broker.publish_many(queue, [{"id": n} for n in range(20)])
    wait_for(lambda: len(daemon.records("version")) == 20)
    assert {r["version"] for r in daemon.records("version")} == {1}
    log = daemon.log()
    error = "cannot import 'versioned': RuntimeError: half-deployed"
    assert log.count(error) == 1 and "Traceback" not in log  # the error is one line
    assert f"exited with status {EXIT_CONFIG} before consuming" in log
    assert all(alive(pid) for pid in before.values())  # and kept
    assert daemon.stop() == 0


def test_sighup_onto_an_invalid_config_keeps_the_workers(broker, daemon_factory):
    queue = broker.queue_name()
    daemon = started(daemon_factory, consumer_config(queue))
    before = daemon.workers()
    Path(daemon.config_path).write_text("consumers: []\n")
    daemon.process.send_signal(signal.SIGHUP)
    path = daemon.config_path
    wait_for(lambda: f"SIGHUP: {path} is not valid; the running workers are kept" in daemon.log())
    assert f"{path}: consumers: expected at least one entry" in daemon.log()
    broker.publish(queue, {"id": 1})
    wait_for(lambda: daemon.records("done"))
    assert daemon.workers() == before
    assert daemon.stop() == 0


def test_one_scrape_sums_the_workers_and_readyz_waits_for_every_worker(broker, daemon_factory):
    queue, port, count = broker.queue_name(), free_port(), 200
    config = consumer_config(queue, count=2, prefetch=5)
    daemon = started(daemon_factory, config, "--processes", "2", "--http-port", str(port))
    workers = daemon.workers()
    broker.publish_many(queue, [{"id": n, "do": [["sleep", 0.002]]} for n in range(count)])
    wait_for(lambda: len(daemon.records("done")) == count, timeout=60, what="every message")
    assert {r["pid"] for r in daemon.records("consume")} == set(workers.values())
    labels = (("consumer", "scripted:Scripted"), ("queue", queue))
    deliveries = ("amqp_dispatcher_deliveries_total", labels)
    wait_for(lambda: samples(port).get(deliveries) == count, what="every delivery, summed")
    seen = samples(port)
    for number, pid in workers.items():  # gauges by worker
        assert (
            seen[("amqp_dispatcher_connected", (("pid", str(pid)), ("worker", str(number))))] == 1
        )
    assert seen[("amqp_dispatcher_workers", ())] == 2
    wait_for(lambda: get(port, "/readyz")[0] == 200, what="ready")

    victim = workers[1]
    os.kill(victim, signal.SIGSTOP)  # down: silent until the arbiter kills it
    status, body = wait_for(
        lambda: (answer := get(port, "/readyz"))[0] == 503 and answer, what="unready"
    )
    assert json.loads(body)["workers"]["2"]["ready"] is True  # the other one is fine
    wait_for(lambda: daemon.workers()[1] != victim, timeout=60, what="worker 1 replaced")
    wait_for(lambda: get(port, "/readyz")[0] == 200, timeout=30, what="ready again")
    seen = samples(port)
    assert seen[deliveries] == count  # the killed worker's counts stay in the sum
    assert seen[("amqp_dispatcher_worker_restarts_total", ())] == 1
    assert not [key for key in seen if ("pid", str(victim)) in key[1]]  # its gauges are gone
    assert daemon.stop() == 0
