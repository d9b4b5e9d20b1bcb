"""`make bench`: the dispatcher, through its real command line and config, against a raw pika
consumer in the same run. Prints medians and ratios, writes bench/results/latest.json and
compares it with the previous run. `--quick` runs every scenario once, small (make test)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path

import pika
import yaml

BENCH = Path(__file__).parent
RESULTS = BENCH / "results"
URL = os.environ.get("RABBITMQ_URL") or "amqp://guest:guest@localhost:5672/"

FULL = {
    "runs": 3,
    "trivial": 50_000,
    "io": 20_000,
    "republish": 20_000,
    "retry": 20_000,
    "latency_s": 20,
    "memory": (100_000, 1_000_000),
}
QUICK = {
    "runs": 1,
    "trivial": 5_000,
    "io": 2_000,
    "republish": 2_000,
    "retry": 2_000,
    "latency_s": 2,
    "memory": (10_000, 50_000),
}


class Broker:
    def __init__(self) -> None:
        self.connection = pika.BlockingConnection(pika.URLParameters(URL))
        self.channel = self.connection.channel()

    def queue(self) -> str:
        name = f"bench.{uuid.uuid4().hex[:8]}"
        self.channel.queue_declare(name)
        return name

    def fill(self, queue: str, count: int, body: bytes = b"x" * 64) -> None:
        for _ in range(count):
            self.channel.basic_publish("", queue, body)

    def ready(self, queue: str) -> int:
        return self.channel.queue_declare(queue, passive=True).method.message_count

    def delete(self, queue: str) -> None:
        self.channel.queue_delete(queue)


class Consumer:
    """A consumer process (the daemon or the raw reference) and the stats it writes."""

    def __init__(self, command: list[str], count: int, env: dict | None = None) -> None:
        self.stats = Path(tempfile.mkstemp(prefix="bench-stats-")[1])
        self.stats.unlink()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (read back on failure)
        environment = {
            **os.environ,
            "RABBITMQ_URL": URL,
            "BENCH_COUNT": str(count),
            "BENCH_STATS": str(self.stats),
            "PYTHONPATH": str(BENCH),
            **(env or {}),
        }
        self.process = subprocess.Popen(
            command, env=environment, stdout=self.log, stderr=subprocess.STDOUT
        )

    def wait(self, timeout: float = 600) -> dict:
        deadline = time.monotonic() + timeout
        while not self.stats.exists() or not self.stats.stat().st_size:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.log.seek(0)
                sys.exit(f"bench: consumer failed:\n{self.log.read().decode()[-3000:]}")
            time.sleep(0.02)
        time.sleep(0.05)
        return json.loads(self.stats.read_text())

    def rss_mb(self, field: str = "VmRSS") -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)
        self.stats.unlink(missing_ok=True)


def dispatcher(
    queue: str,
    consumer: str,
    count: int,
    instances: int,
    prefetch: int,
    env: dict | None = None,
    retry: dict | None = None,
    args: tuple[str, ...] = (),
) -> Consumer:
    entry = {
        "consumer": f"consumers:{consumer}",
        "queue": queue,
        "consumer_count": instances,
        "prefetch_count": prefetch,
    }
    config = {"consumers": [{**entry, "retry": retry} if retry else entry]}
    path = Path(tempfile.mkstemp(prefix="bench-config-", suffix=".yml")[1])
    path.write_text(yaml.safe_dump(config))
    command = [sys.executable, "-m", "amqpdispatcher", "--config", str(path), *args]
    return Consumer(command, count, env)


def free_port() -> int:
    """A loopback port with nothing listening on it, for the HTTP endpoint."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def raw(queue: str, count: int, prefetch: int) -> Consumer:
    return Consumer([sys.executable, str(BENCH / "raw.py"), queue, str(prefetch)], count)


def rate(stats: dict, count: int) -> float:
    return count / (stats["last"] - stats["first"])


def throughput(broker: Broker, make, count: int, queue: str | None = None) -> tuple[float, float]:
    """Messages per second over `count` pre-published messages, and peak RSS in MB. The queue
    must be empty once the consumer has stopped: every message acked."""
    queue = queue or broker.queue()
    broker.fill(queue, count)
    consumer = make(queue)
    stats = consumer.wait()
    peak = consumer.rss_mb("VmHWM")
    consumer.stop()
    left = broker.ready(queue)
    broker.delete(queue)
    if left:
        sys.exit(f"bench: {left} messages were not acked")
    return rate(stats, count), peak


def retrying(broker: Broker, count: int) -> tuple[float, float]:
    """As `throughput`, with one message in ten failing once and retried after 1 ms."""
    queue = broker.queue()
    retry = {"max_retries": 1, "backoff": [0.001]}
    result = throughput(
        broker,
        partial(
            dispatcher, consumer="FailsOnce", count=count, instances=100, prefetch=100, retry=retry
        ),
        count,
        queue,
    )
    for derived in (f"{queue}.delay.0.001s", f"{queue}.archive"):
        if broker.ready(derived):
            sys.exit(f"bench: messages left in {derived}")
        broker.delete(derived)
    return result


def latency(broker: Broker, seconds: int) -> dict:
    """Publish 1,000 msg/s carrying the send time; the consumer records publish -> consume."""
    queue = broker.queue()
    count = 1000 * seconds
    consumer = dispatcher(queue, "Latency", count, 100, 100)
    while broker.channel.queue_declare(queue, passive=True).method.consumer_count == 0:
        time.sleep(0.05)
    start = time.perf_counter()
    for n in range(count):
        while time.perf_counter() < start + n / 1000:
            pass
        props = pika.BasicProperties(headers={"sent": repr(time.time())})
        broker.channel.basic_publish("", queue, b"x" * 64, props)
    latencies = sorted(consumer.wait()["latencies"])
    consumer.stop()
    broker.delete(queue)
    ms = [value * 1000 for value in latencies]
    return {"p50_ms": ms[len(ms) // 2], "p99_ms": ms[int(len(ms) * 0.99)], "max_ms": ms[-1]}


def memory(broker: Broker, sizes: tuple[int, int]) -> dict:
    """RSS with 1,000 idle instances; RSS growth between two counts of processed messages."""
    queue = broker.queue()
    idle = dispatcher(queue, "Trivial", 1, 1000, 1000)
    while broker.channel.queue_declare(queue, passive=True).method.consumer_count == 0:
        time.sleep(0.05)
    time.sleep(1)
    idle_rss = idle.rss_mb()
    idle_cpu = cpu_seconds(idle.process.pid)
    time.sleep(2)
    idle_cpu = (cpu_seconds(idle.process.pid) - idle_cpu) / 2
    idle.stop()
    small, large = sizes
    broker.fill(queue, large)
    consumer = dispatcher(queue, "Trivial", large, 100, 100)
    while broker.ready(queue) > large - small:
        time.sleep(0.05)
    at_small = consumer.rss_mb()
    consumer.wait()
    at_large = consumer.rss_mb()
    consumer.stop()
    broker.delete(queue)
    return {
        "idle_1000_instances_mb": idle_rss,
        "idle_cpu_percent": idle_cpu * 100,
        f"rss_at_{small}_mb": at_small,
        f"rss_at_{large}_mb": at_large,
        "growth_percent": (at_large - at_small) / at_small * 100,
    }


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each scenario once, small")
    sizes = QUICK if parser.parse_args().quick else FULL
    broker = Broker()
    runs: dict[str, list] = {
        name: [] for name in ("raw", "trivial", "trivial_http", "io", "republish", "retry")
    }
    count, io, rp = sizes["trivial"], sizes["io"], sizes["republish"]
    for _ in range(sizes["runs"]):
        runs["raw"].append(throughput(broker, partial(raw, count=count, prefetch=100), count))
        trivial = partial(dispatcher, consumer="Trivial", count=count, instances=100, prefetch=100)
        runs["trivial"].append(throughput(broker, trivial, count))
        with_http = partial(trivial, args=("--http-port", str(free_port())))
        runs["trivial_http"].append(throughput(broker, with_http, count))
        sleeper = partial(dispatcher, consumer="Sleeper", count=io, instances=500, prefetch=500)
        runs["io"].append(throughput(broker, sleeper, io))
        out = broker.queue()
        republisher = partial(
            dispatcher,
            consumer="Republisher",
            count=rp,
            instances=100,
            prefetch=100,
            env={"BENCH_OUT": out},
        )
        runs["republish"].append(throughput(broker, republisher, rp))
        broker.delete(out)
        runs["retry"].append(retrying(broker, sizes["retry"]))
    median = {name: statistics.median(rate for rate, _ in values) for name, values in runs.items()}
    peak = {name: max(rss for _, rss in values) for name, values in runs.items()}
    results = {
        "quick": sizes is QUICK,
        "runs": sizes["runs"],
        "rates": median,
        "peak_rss_mb": peak,
        "ratios": {
            "trivial / raw": median["trivial"] / median["raw"],
            "trivial with /metrics on / trivial": median["trivial_http"] / median["trivial"],
            "io / ideal 10,000": median["io"] / 10_000,
            "republish / trivial": median["republish"] / median["trivial"],
            "retry 10 % / trivial": median["retry"] / median["trivial"],
        },
        "latency": latency(broker, sizes["latency_s"]),
        "memory": memory(broker, sizes["memory"]),
    }
    report(results)


def report(results: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    latest = RESULTS / "latest.json"
    previous = json.loads(latest.read_text()) if latest.exists() else None
    latest.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n{'scenario':24} {'msg/s (median)':>15} {'peak RSS MB':>12} {'previous':>10}")
    for name, value in results["rates"].items():
        before = previous["rates"].get(name) if previous else None
        shown = f"{before:10.0f}" if before else f"{'-':>10}"
        print(f"{name:24} {value:15.0f} {results['peak_rss_mb'][name]:12.1f} {shown}")
    print()
    for name, value in results["ratios"].items():
        print(f"{name:36} {value:8.2f}x")
    for section in ("latency", "memory"):
        print()
        for name, value in results[section].items():
            print(f"{section}: {name:28} {value:10.2f}")
    print(f"\nwritten to {latest}")


if __name__ == "__main__":
    main()
