"""What every scenario runs on: the broker bench fills and checks, the consumer processes (the
daemon through its command line, or the raw reference) and the stats they write, and a run's
rate."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pika
import yaml
from consumers import RAW_READY

BENCH = Path(__file__).parent
URL = os.environ.get("RABBITMQ_URL") or "amqp://guest:guest@localhost:5672/"


class Broker:
    def __init__(self) -> None:
        self.connection = pika.BlockingConnection(pika.URLParameters(URL))
        self.channel = self.connection.channel()

    def version(self) -> str:
        """The broker's product and version, from the server properties of connection.start."""
        properties = self.connection._impl.server_properties or {}
        product, version = (properties.get(key, b"unknown") for key in ("product", "version"))
        return " ".join(
            value.decode() if isinstance(value, bytes) else str(value)
            for value in (product, version)
        )

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

    def drain_check(self, queue: str) -> None:
        """Delete `queue`, which must be empty: every message acked. Stops bench if not."""
        left = self.ready(queue)
        self.delete(queue)
        if left:
            sys.exit(f"bench: {left} messages were left in {queue}")


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
        self._broker_cpu = broker_cpu_seconds()  # from before the consumer's start
        self.process = subprocess.Popen(
            command, env=environment, stdout=self.log, stderr=subprocess.STDOUT
        )

    def wait(self, timeout: float = 600) -> dict:
        deadline = time.monotonic() + timeout
        while not self.stats.exists():  # written whole, then renamed into place
            self._alive(deadline)
            time.sleep(0.02)
        return json.loads(self.stats.read_text())

    def wait_ready(self, timeout: float = 60) -> None:
        """Until the arbiter logs that all its workers consume, or raw pika that it does."""
        deadline = time.monotonic() + timeout
        ready = "workers consuming:" if self.arbiter else RAW_READY
        while ready not in self._output():
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

    def broker_cpu_used(self) -> float | None:
        """The broker's CPU seconds since this consumer was started, if the broker is local."""
        now = broker_cpu_seconds()
        return None if now is None or self._broker_cpu is None else now - self._broker_cpu

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
    return proc_kib(Path(f"/proc/{pid}/{source}"), field) / 1024


def proc_kib(path: Path, field: str) -> int:
    """A size in kiB in a /proc file of `Field: size kB` lines; 0 if it has none."""
    for line in path.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command's name, from the state on."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def broker_cpu_seconds() -> float | None:
    """The CPU seconds of the local broker's Erlang VM; None if there is none (a broker
    elsewhere)."""
    pid = _broker_pid()
    return None if pid is None else cpu_seconds(pid)


@cache
def _broker_pid() -> int | None:
    """The oldest beam.smp here, found once: the same broker serves the whole bench."""
    vms = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "beam.smp":
                pid = int(comm.parent.name)
                vms.append((int(_stat(pid)[19]), pid))  # started, in clock ticks from boot
        except (OSError, ValueError):
            continue  # gone meanwhile
    return min(vms)[1] if vms else None


def dispatcher(
    *queues: str,
    consumer: str,
    count: int,
    instances: int,
    prefetch: int,
    env: dict | None = None,
    keys: dict | None = None,
    top: dict | None = None,
    args: Sequence[str] = (),
) -> Consumer:
    """The daemon with one consumers entry per queue. `keys`: more keys of each entry (retry,
    executor...); `top`: more top-level keys of the config (middleware)."""
    entries = [
        {
            "consumer": f"consumers:{consumer}",
            "queue": queue,
            "consumer_count": instances,
            "prefetch_count": prefetch,
            **(keys or {}),
        }
        for queue in queues
    ]
    path = Path(tempfile.mkstemp(prefix="bench-config-", suffix=".yml")[1])
    path.write_text(yaml.safe_dump({"consumers": entries, **(top or {})}))
    command = [sys.executable, "-m", "amqpdispatcher", "--config", str(path), *args]
    return Consumer(command, count, env, arbiter=True)


def raw(
    queue: str,
    *,
    count: int,
    prefetch: int,
    auto_ack: bool = False,
    latency: bool = False,
    env: dict | None = None,
) -> Consumer:
    flags = {"--auto-ack": auto_ack, "--latency": latency}
    command = [sys.executable, str(BENCH / "raw.py"), queue, str(prefetch)]
    return Consumer(command + [flag for flag, on in flags.items() if on], count, env)


def free_port() -> int:
    """A loopback port with nothing listening on it, for the HTTP endpoint."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def filled(broker: Broker, count: int, queues: int = 1) -> Iterator[list[str]]:
    """`queues` new queues sharing `count` pre-published messages evenly; once the consumer has
    stopped, each must be empty (every message acked), and is deleted."""
    if count % queues:
        raise ValueError(f"{count} messages cannot be shared evenly by {queues} queues")
    names = [broker.queue() for _ in range(queues)]
    for name in names:
        broker.fill(name, count // queues)
    yield names
    for name in names:
        broker.drain_check(name)


def measure(consumer: Consumer, count: int) -> tuple[float, float, dict]:
    """Messages per second, from the moment the first message started to the moment the last
    one finished; the peak RSS in MB of the largest worker; and the CPU time per message in µs,
    the consumer's (its process's, over the same span) and the broker's (its Erlang VM's, from
    the consumer's start, whatever else it served meanwhile), None where unknown; then the
    consumer is stopped."""
    stats = consumer.wait()
    broker = consumer.broker_cpu_used()
    peak = consumer.rss_mb("VmHWM")
    consumer.stop()
    cpu = {
        "consumer": _per_message(stats.get("cpu"), count),
        "broker": _per_message(broker, count),
    }
    return count / (stats["last"] - stats["first"]), peak, cpu


def _per_message(seconds: float | None, count: int) -> float | None:
    return None if seconds is None else seconds / count * 1e6


def throughput(
    broker: Broker, make: Callable[..., Consumer], count: int, queues: int = 1
) -> tuple[float, float, dict]:
    """`measure` over `count` messages pre-published to `queues` queues, `make(*queues)` the
    consumer."""
    with filled(broker, count, queues) as names:
        return measure(make(*names), count)


class Scraper:
    """GETs /metrics on `port` once a second in a thread of its own, as Prometheus would,
    counting the answers; until the endpoint first answers, every 50 ms."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/metrics"
        self.scrapes = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._scrape, daemon=True)
        self._thread.start()

    def stop(self) -> int:
        """The number of scrapes answered."""
        self._stopped.set()
        self._thread.join()
        return self.scrapes

    def _scrape(self) -> None:
        while not self._stopped.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=5) as answer:
                    answer.read()
                self.scrapes += 1
            except OSError:
                self._stopped.wait(0.05)
                continue
            self._stopped.wait(1)
