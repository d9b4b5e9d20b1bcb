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
from consumers import burn

BENCH = Path(__file__).parent
RESULTS = BENCH / "results"
URL = os.environ.get("RABBITMQ_URL") or "amqp://guest:guest@localhost:5672/"

FULL = {
    "runs": 3,
    "trivial": 50_000,
    "io": 20_000,
    "threaded": 5_000,
    "republish": 20_000,
    "retry": 20_000,
    "latency_s": 20,
    "memory": (100_000, 1_000_000),
    "cpu": 6_000,
}
QUICK = {
    "runs": 1,
    "trivial": 5_000,
    "io": 2_000,
    "threaded": 500,
    "republish": 2_000,
    "retry": 2_000,
    "latency_s": 2,
    "memory": (10_000, 50_000),
    "cpu": 1_000,
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
    """A consumer process (the daemon or the raw reference) and the stats it writes. The
    daemon's process is the arbiter (`arbiter`): its children, the workers, consume, and what
    is measured is theirs."""

    def __init__(
        self, command: list[str], count: int, env: dict | None = None, arbiter: bool = False
    ) -> None:
        self.arbiter = arbiter
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
            self._alive(deadline)
            time.sleep(0.02)
        time.sleep(0.05)
        return json.loads(self.stats.read_text())

    def wait_ready(self, timeout: float = 60) -> None:
        """Until the arbiter logs that all its workers consume."""
        deadline = time.monotonic() + timeout
        while "workers consuming:" not in self._output():
            self._alive(deadline)
            time.sleep(0.02)

    def workers(self) -> list[int]:
        """The pids that consume: the arbiter's children, or the raw reference itself."""
        pid = self.process.pid
        if not self.arbiter:
            return [pid]
        return [
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]

    def rss_mb(self, field: str = "VmRSS") -> float:
        """The largest of the workers'."""
        return max(proc_mb(pid, field) for pid in self.workers())

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)
        for path in self.stats.parent.glob(self.stats.name + "*"):  # with Burner's .tally, .first
            path.unlink()

    def _output(self) -> str:
        """The log so far, read without moving the offset the process writes at."""
        return os.pread(self.log.fileno(), 1 << 24, 0).decode(errors="replace")

    def _alive(self, deadline: float) -> None:
        if self.process.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"bench: consumer failed:\n{self._output()[-3000:]}")


def proc_mb(pid: int, field: str, source: str = "status") -> float:
    """A size in /proc/<pid>/status, or in smaps_rollup (Pss: shared pages divided among the
    processes that share them, as a fork's are)."""
    for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def dispatcher(
    queue: str,
    consumer: str,
    count: int,
    instances: int,
    prefetch: int,
    env: dict | None = None,
    keys: dict | None = None,
    args: tuple[str, ...] = (),
) -> Consumer:
    """`keys`: more keys of the consumers entry (retry, executor...)."""
    entry = {
        "consumer": f"consumers:{consumer}",
        "queue": queue,
        "consumer_count": instances,
        "prefetch_count": prefetch,
        **(keys or {}),
    }
    config = {"consumers": [entry]}
    path = Path(tempfile.mkstemp(prefix="bench-config-", suffix=".yml")[1])
    path.write_text(yaml.safe_dump(config))
    command = [sys.executable, "-m", "amqpdispatcher", "--config", str(path), *args]
    return Consumer(command, count, env, arbiter=True)


def free_port() -> int:
    """A loopback port with nothing listening on it, for the HTTP endpoint."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def raw(queue: str, count: int, prefetch: int, env: dict | None = None) -> Consumer:
    return Consumer([sys.executable, str(BENCH / "raw.py"), queue, str(prefetch)], count, env)


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
    fails_once = partial(dispatcher, consumer="FailsOnce", count=count, instances=100, prefetch=100)
    result = throughput(broker, partial(fails_once, keys={"retry": retry}), count, queue)
    for derived in (f"{queue}.delay.0.001s", f"{queue}.archive"):
        if broker.ready(derived):
            sys.exit(f"bench: messages left in {derived}")
        broker.delete(derived)
    return result


def calibrate() -> int:
    """How many turns of `burn` take 1 ms here: the best of five timings of 100,000."""
    loops = 100_000
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        burn(loops)
        timings.append(time.perf_counter() - start)
    return round(loops / min(timings) / 1000)


def cpu_round(broker: Broker, count: int, loops: int, runs: dict[str, list]) -> None:
    """One run each of `Burner` (1 ms of CPU per message) with 1 and with 2 worker processes,
    10 instances and prefetch 20 per worker, and of raw pika doing the same work inline."""
    env = {"BENCH_BURN_LOOPS": str(loops)}
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
        runs[f"cpu_{processes}"].append(throughput(broker, burner, count))
    runs["cpu_raw"].append(
        throughput(broker, partial(raw, count=count, prefetch=20, env=env), count)
    )


def latency(broker: Broker, seconds: int) -> dict:
    """Publish 1,000 msg/s carrying the send time; the consumer records publish -> consume."""
    queue = broker.queue()
    count = 1000 * seconds
    consumer = dispatcher(queue, "Latency", count, 100, 100)
    consumer.wait_ready()
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
    """The worker's RSS with 1,000 idle instances, and the arbiter's; the CPU each uses while
    idle; the memory both take together (PSS), the pages they share counted once; the worker's
    RSS growth between two counts of processed messages."""
    queue = broker.queue()
    idle = dispatcher(queue, "Trivial", 1, 1000, 1000)
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
        "arbiter_rss_mb": arbiter_rss,
        "arbiter_idle_cpu_percent": arbiter_cpu * 100,
        "pss_worker_and_arbiter_mb": both_pss,
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
        name: []
        for name in ("raw", "trivial", "trivial_http", "io", "threaded", "republish", "retry")
    }
    runs.update(cpu_1=[], cpu_2=[], cpu_raw=[])
    loops = calibrate()
    count, io, rp = sizes["trivial"], sizes["io"], sizes["republish"]
    blocks, thread = sizes["threaded"], {"executor": "thread", "threads": 50}
    for _ in range(sizes["runs"]):
        runs["raw"].append(throughput(broker, partial(raw, count=count, prefetch=100), count))
        trivial = partial(dispatcher, consumer="Trivial", count=count, instances=100, prefetch=100)
        runs["trivial"].append(throughput(broker, trivial, count))
        with_http = partial(trivial, args=("--http-port", str(free_port())))
        runs["trivial_http"].append(throughput(broker, with_http, count))
        sleeper = partial(dispatcher, consumer="Sleeper", count=io, instances=500, prefetch=500)
        runs["io"].append(throughput(broker, sleeper, io))
        blocker = partial(
            dispatcher, consumer="Blocker", count=blocks, instances=50, prefetch=50, keys=thread
        )
        runs["threaded"].append(throughput(broker, blocker, blocks))
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
        cpu_round(broker, sizes["cpu"], loops, runs)
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
            "threaded / ideal 1,000": median["threaded"] / 1_000,
            "republish / trivial": median["republish"] / median["trivial"],
            "retry 10 % / trivial": median["retry"] / median["trivial"],
            "cpu 2 processes / 1 process": median["cpu_2"] / median["cpu_1"],
            "cpu 1 process / raw pika": median["cpu_1"] / median["cpu_raw"],
        },
        "cpu_burn_loops_per_ms": loops,
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
