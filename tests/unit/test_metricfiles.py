"""The workers' metrics as the arbiter's endpoint serves them: each "worker" here is a MetricFiles
writing, under a pid of its own (prometheus-client's process_identifier, or a forked child), into
one directory, which the endpoint reads as the arbiter does."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from prometheus_client import Counter, Histogram, values
from prometheus_client.multiprocess import mark_process_dead
from waiting import wait_for

from amqpdispatcher.metricfiles import MetricFiles, histogram_parts, use_multiprocess_values
from amqpdispatcher.middleware.metrics import BUCKETS, Metrics
from amqpdispatcher.transport import ServerInfo
from amqpdispatcher.url import parse_url

from .rig import consumer_spec
from .scraping import sample, scrape

POOL = {"queue": "q", "consumer": "tests.unit:Consumer"}
(TARGET,) = parse_url("amqp://guest:guest@localhost:5672/")


@pytest.fixture
def worker(directory) -> Callable[[int, int], tuple[Metrics, MetricFiles]]:
    """A worker's Metrics and MetricFiles, as the worker numbered `number` of process `pid`."""

    def start(number: int, pid: int) -> tuple[Metrics, MetricFiles]:
        values.ValueClass = values.MultiProcessValue(lambda: pid)
        metrics = Metrics([consumer_spec(2)])
        return metrics, MetricFiles(metrics, number)

    return start


def test_every_series_exists_from_the_start(worker, directory):
    worker(1, 101)
    samples = scrape(directory)
    assert sample(samples, "deliveries_total", **POOL) == 0
    assert sample(samples, "answers_total", **POOL, answer="reject") == 0
    assert sample(samples, "consume_duration_seconds_count", **POOL) == 0
    assert sample(samples, "instances", **POOL, worker="1", pid="101") == 2
    assert sample(samples, "connected", worker="1", pid="101") == 0
    assert sample(samples, "publishes_total", result="failed") == 0


def test_counters_are_summed_across_workers_and_a_replaced_workers_counts_stay(worker, directory):
    first, first_files = worker(1, 101)
    second, second_files = worker(2, 102)
    for metrics, files, count in ((first, first_files, 3), (second, second_files, 4)):
        (pool,) = metrics.pools
        pool.deliveries += count
        pool.answers["ack"] += count
        metrics.after_publish("", "key", True)
        files.flush()
        files.flush()  # what was flushed already is not added again
    samples = scrape(directory)
    assert sample(samples, "deliveries_total", **POOL) == 7
    assert sample(samples, "answers_total", **POOL, answer="ack") == 7
    assert sample(samples, "publishes_total", result="confirmed") == 2

    first_files.stop()
    mark_process_dead(101, directory)
    replacement, replacement_files = worker(1, 103)
    replacement.pools[0].deliveries += 2
    replacement_files.flush()
    assert sample(scrape(directory), "deliveries_total", **POOL) == 9


def test_gauges_are_per_worker_and_a_dead_workers_are_gone(worker, directory):
    first, first_files = worker(1, 101)
    second, second_files = worker(2, 102)
    first.after_connection_opened(TARGET)
    first.pools[0].started[object()] = 0.0
    first_files.flush()
    second_files.flush()
    samples = scrape(directory)
    assert sample(samples, "connected", worker="1", pid="101") == 1
    assert sample(samples, "connected", worker="2", pid="102") == 0
    assert sample(samples, "in_flight", **POOL, worker="1", pid="101") == 1
    assert sample(samples, "in_flight", **POOL, worker="2", pid="102") == 0

    mark_process_dead(101, directory)
    workers = {
        dict(labels)["worker"]
        for name, labels in scrape(directory)
        if name in ("amqp_dispatcher_connected", "amqp_dispatcher_in_flight")
    }
    assert workers == {"2"}


def test_the_broker_info_names_the_version_last_connected_to(worker, directory):
    metrics, files = worker(1, 101)
    files.flush()
    assert not [name for name, _ in scrape(directory) if name.endswith("broker_info")]
    old, new = ServerInfo("RabbitMQ", "3.10.8"), ServerInfo("RabbitMQ", "4.3.0")
    for server in (old, old, new):  # a reconnection, then an upgraded node
        metrics.after_broker_identified(TARGET, server)
        files.flush()
    samples = scrape(directory)
    here = {"product": "RabbitMQ", "worker": "1", "pid": "101"}
    assert sample(samples, "broker_info", **here, version="4.3.0") == 1
    assert sample(samples, "broker_info", **here, version="3.10.8") == 0


def test_the_durations_are_the_histogram_prometheus_client_would_have_observed(worker, directory):
    durations = [0.001, 0.02, 0.02, 0.3, 11.0]
    metrics, files = worker(1, 101)
    (pool,) = metrics.pools
    reference = Histogram("reference", "", buckets=BUCKETS, registry=None)
    for took in durations:
        pool.buckets[sum(bound < took for bound in BUCKETS)] += 1
        pool.seconds += took
        reference.observe(took)
    files.flush()
    samples = scrape(directory)
    for suffix in ("_sum", "_count", *(f"_bucket:{bound}" for bound in (*BUCKETS, "+Inf"))):
        name, _, bound = suffix.partition(":")
        labels = {"le": "+Inf" if bound == "+Inf" else str(float(bound))} if bound else {}
        ours = sample(samples, "consume_duration_seconds" + name, **POOL, **labels)
        theirs = samples[("reference" + name, frozenset(labels.items()))]
        assert ours == pytest.approx(theirs), suffix
    assert sample(samples, "consume_duration_seconds_count", **POOL) == len(durations)


def test_the_histogram_attributes_relied_on_are_still_there(directory):
    use_multiprocess_values()
    histogram = Histogram("parts", "", ["label"], buckets=BUCKETS, registry=None)
    buckets, total = histogram_parts(histogram.labels("x"))
    assert len(buckets) == len(BUCKETS) + 1
    histogram.labels("x").observe(0.2)
    assert [bucket.get() for bucket in buckets] == [
        1.0 if bound == 0.25 else 0.0 for bound in (*BUCKETS, float("inf"))
    ]
    assert total.get() == 0.2


def test_the_numbers_are_flushed_while_running_and_once_more_at_the_stop(worker, directory):
    metrics, files = worker(1, 101)
    files.start()
    metrics.pools[0].deliveries += 5
    wait_for(lambda: sample(scrape(directory), "deliveries_total", **POOL) == 5, what="the flush")
    metrics.pools[0].deliveries += 1
    files.stop()
    assert sample(scrape(directory), "deliveries_total", **POOL) == 6


def test_values_go_to_the_files_even_if_prometheus_client_was_imported_first(directory):
    values.ValueClass = values.MutexValue  # as chosen at an import before the directory was set
    use_multiprocess_values()
    assert values.ValueClass is not values.MutexValue
    Counter("after", "", registry=None).inc()
    assert scrape(directory)[("after_total", frozenset())] == 1


def test_without_the_directory_the_files_cannot_be_used(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with pytest.raises(RuntimeError, match=r"\$PROMETHEUS_MULTIPROC_DIR is not set"):
        use_multiprocess_values()


def test_forked_workers_write_under_their_own_pids(directory):
    """As the arbiter does: prometheus-client's values chosen before the fork, by the parent."""
    use_multiprocess_values()
    pids = {number: forked_worker(number, deliveries=number * 10) for number in (1, 2)}
    samples = scrape(directory)
    assert sample(samples, "deliveries_total", **POOL) == 30
    for number, pid in pids.items():
        assert sample(samples, "connected", worker=str(number), pid=str(pid)) == 1
    mark_process_dead(pids[1], directory)
    assert sample(scrape(directory), "connected", worker="1", pid=str(pids[1])) is None


def forked_worker(number: int, deliveries: int) -> int:
    """A child that counts, flushes and exits; its pid once it has exited."""
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            metrics = Metrics([consumer_spec()])
            metrics.after_connection_opened(TARGET)
            metrics.pools[0].deliveries = deliveries
            MetricFiles(metrics, number).stop()
            status = 0
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return pid
