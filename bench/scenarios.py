"""The scenarios (bench/README.md): each runs once and returns what it measured. The throughput
ones return the rate in msg/s, the peak RSS in MB and the CPU per message (runs.measure); every
queue they use must be empty at the end, every message acked."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from functools import partial

import pika
from consumers import burn
from runs import (
    Broker,
    Consumer,
    Scraper,
    cpu_seconds,
    dispatcher,
    filled,
    free_port,
    measure,
    proc_mb,
    raw,
    throughput,
)

Result = tuple[float, float, dict]  # rate, peak RSS, CPU per message: runs.measure

# Every message retried once, after 1 ms; with max_retries 1 a second failure would archive it.
RETRY = {"max_retries": 1, "backoff": [0.001]}


def raw_acks(broker: Broker, count: int) -> Result:
    """raw.py, prefetch 100, acking each message inline."""
    return throughput(broker, partial(raw, count=count, prefetch=100), count)


def raw_auto_ack(broker: Broker, count: int) -> Result:
    """raw.py consuming with auto_ack: the broker forgets each message as it sends it, the
    ceiling for a consumer on this connection."""
    return throughput(broker, partial(raw, count=count, prefetch=100, auto_ack=True), count)


def _hundred(count: int, consumer: str = "Trivial", **more: object) -> partial:
    """The daemon running `consumer` with 100 instances, prefetch 100."""
    return partial(dispatcher, consumer=consumer, count=count, instances=100, prefetch=100, **more)


def trivial(broker: Broker, count: int) -> Result:
    return throughput(broker, _hundred(count), count)


def features_on(broker: Broker, count: int) -> tuple[float, float, dict, int]:
    """trivial with JSON logs, the HTTP endpoint scraped once a second, a retry block (never
    used: nothing fails) and a middleware whose consume hooks do nothing; and the number of
    scrapes answered, which must not be none."""
    port = free_port()
    make = _hundred(
        count,
        keys={"retry": RETRY},
        top={"middleware": ["middlewares:Noop"]},
        args=("--log-format", "json", "--http-port", str(port)),
    )
    with filled(broker, count) as (queue,):
        consumer = make(queue)
        scraper = Scraper(port)
        rate, peak, cpu = measure(consumer, count)
        scrapes = scraper.stop()
    _drop_retry_queues(broker, queue)
    if not scrapes:
        sys.exit("bench: /metrics never answered")
    return rate, peak, cpu, scrapes


def tracing_on(broker: Broker, count: int) -> Result:
    """trivial with `tracing: true`: a CONSUMER span per message, every one sampled and handed
    to an in-memory exporter as it ends (tracer.py)."""
    top = {"tracing": True, "startup_handler": "tracer:setup"}
    return throughput(broker, _hundred(count, top=top), count)


def tracing_off(broker: Broker, count: int) -> Result:
    """trivial with `tracing: false`, the otel extra installed: what tracing costs when off."""
    return throughput(broker, _hundred(count, top={"tracing": False}), count)


def many_queues(broker: Broker, count: int) -> Result:
    """20 queues, an entry each of 5 instances with prefetch 20, the messages spread evenly."""
    make = partial(dispatcher, consumer="Trivial", count=count, instances=5, prefetch=20)
    return throughput(broker, make, count, queues=20)


def io(broker: Broker, count: int) -> Result:
    """`gevent.sleep(0.05)` per message, 500 instances, prefetch 500: ideal 10,000 msg/s."""
    make = partial(dispatcher, consumer="Sleeper", count=count, instances=500, prefetch=500)
    return throughput(broker, make, count)


def threaded(broker: Broker, count: int) -> Result:
    """The unpatched `time.sleep(0.05)` in 50 threads: ideal 1,000 msg/s."""
    make = partial(
        dispatcher,
        consumer="Blocker",
        count=count,
        instances=50,
        prefetch=50,
        keys={"executor": "thread", "threads": 50},
    )
    return throughput(broker, make, count)


def republish(broker: Broker, count: int) -> Result:
    out = broker.queue()
    make = _hundred(count, consumer="Republisher", env={"BENCH_OUT": out})
    result = throughput(broker, make, count)
    broker.delete(out)
    return result


def retry(broker: Broker, count: int) -> Result:
    """Every message fails at its first delivery and is retried after 1 ms through the delay
    queue; the rate counts the messages finally acked, over the time until the last one is."""
    with filled(broker, count) as (queue,):
        result = measure(_hundred(count, consumer="FailsOnce", keys={"retry": RETRY})(queue), count)
    _drop_retry_queues(broker, queue)
    return result


def _drop_retry_queues(broker: Broker, queue: str) -> None:
    """The delay and archive queues `RETRY` derives from `queue`, which must be empty."""
    for derived in (f"{queue}.delay.0.001s", f"{queue}.archive"):
        broker.drain_check(derived)


def calibrate() -> int:
    """How many turns of `burn` take 1 ms here: the best of five timings of 100,000."""
    loops = 100_000
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        burn(loops)
        timings.append(time.perf_counter() - start)
    return round(loops / min(timings) / 1000)


def cpu(broker: Broker, count: int, loops: int) -> dict[str, Result]:
    """`Burner` (1 ms of CPU per message) with 1 and with 2 worker processes, 10 instances and
    prefetch 20 per worker, and raw pika doing the same work inline."""
    env = {"BENCH_BURN_LOOPS": str(loops)}
    results = {}
    for processes in (1, 2):
        burner = partial(
            dispatcher,
            consumer="Burner",
            count=count,
            instances=10,
            prefetch=20,
            env=env,
            args=("--processes", str(processes)),
        )
        results[f"cpu_{processes}"] = throughput(broker, burner, count)
    results["cpu_raw"] = throughput(broker, partial(raw, count=count, prefetch=20, env=env), count)
    return results


def latency(broker: Broker, seconds: int) -> dict:
    """Publish 1,000 msg/s carrying the send time, to the daemon, then to raw pika acking inline
    (the broker's and pika's own share); each records publish -> consume."""
    ours = _latencies(broker, seconds, lambda queue, count: _hundred(count, "Latency")(queue))
    reference = _latencies(
        broker, seconds, lambda queue, count: raw(queue, count=count, prefetch=100, latency=True)
    )
    return {**ours, **{f"raw_{name}": value for name, value in reference.items()}}


def _latencies(broker: Broker, seconds: int, make: Callable[[str, int], Consumer]) -> dict:
    """p50, p99 and max in ms of the consumer `make(queue, count)`, fed 1,000 msg/s."""
    queue = broker.queue()
    count = 1000 * seconds
    receiver = make(queue, count)
    receiver.wait_ready()
    start = time.perf_counter()
    for n in range(count):
        pause = start + n / 1000 - time.perf_counter()
        if pause > 0:
            time.sleep(pause)  # not a busy wait, which would take a core from the consumer
        props = pika.BasicProperties(headers={"sent": repr(time.time())})
        broker.channel.basic_publish("", queue, b"x" * 64, props)
    latencies = sorted(receiver.wait()["latencies"])
    receiver.stop()
    broker.drain_check(queue)
    ms = [value * 1000 for value in latencies]
    return {"p50_ms": ms[len(ms) // 2], "p99_ms": ms[int(len(ms) * 0.99)], "max_ms": ms[-1]}


def memory(broker: Broker, sizes: tuple[int, int]) -> dict:
    """The worker's RSS with 1,000 idle instances, and the arbiter's; the CPU each uses while
    idle; the memory both take together (PSS), the pages they share counted once; each
    worker's RSS with the same entry and 2 processes; the worker's RSS growth between two
    counts of processed messages."""
    queue = broker.queue()
    idle_entry = partial(
        dispatcher, queue, consumer="Trivial", count=1, instances=1000, prefetch=1000
    )
    idle = idle_entry()
    idle.wait_ready()
    time.sleep(1)
    idle_rss = idle.rss_mb()
    arbiter_rss = proc_mb(idle.process.pid, "VmRSS")
    pids = [*idle.workers(), idle.process.pid]
    both_pss = sum(proc_mb(pid, "Pss", "smaps_rollup") for pid in pids)
    before = [cpu_seconds(pid) for pid in pids]
    time.sleep(2)
    idle_cpu, arbiter_cpu = [
        (cpu_seconds(pid) - was) / 2 for pid, was in zip(pids, before, strict=True)
    ]
    idle.stop()
    two = idle_entry(args=("--processes", "2"))
    two.wait_ready()
    time.sleep(1)
    two_rss = sorted(proc_mb(pid, "VmRSS") for pid in two.workers())
    two.stop()
    small, large = sizes
    broker.fill(queue, large)
    consumer = dispatcher(queue, consumer="Trivial", count=large, instances=100, prefetch=100)
    while broker.ready(queue) > large - small:
        time.sleep(0.05)
    at_small = consumer.rss_mb()
    consumer.wait()
    at_large = consumer.rss_mb()
    consumer.stop()
    broker.drain_check(queue)
    return {
        "idle_1000_instances_mb": idle_rss,
        "idle_cpu_percent": idle_cpu * 100,
        "arbiter_rss_mb": arbiter_rss,
        "arbiter_idle_cpu_percent": arbiter_cpu * 100,
        "pss_worker_and_arbiter_mb": both_pss,
        "processes_2_workers_mb": two_rss,
        "processes_2_largest_worker_mb": two_rss[-1],
        f"rss_at_{small}_mb": at_small,
        f"rss_at_{large}_mb": at_large,
        "growth_percent": (at_large - at_small) / at_small * 100,
    }
