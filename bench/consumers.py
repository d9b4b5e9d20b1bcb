"""Consumers for the benchmark. `_begin` notes when the first message started, `_done_one`
counts finished ones; when BENCH_COUNT are done, the time span, the CPU time the process used
meanwhile and what the scenario measures are written to BENCH_STATS."""

import json
import os
import threading
import time

import gevent

RAW_READY = "raw pika consuming"  # raw.py's line once it consumes, which bench waits for
_count = 0
_first = 0.0
_first_cpu = 0.0  # the process's CPU seconds when the first message started
_latencies: list[float] = []


def _begin() -> None:
    global _first, _first_cpu
    if not _first:
        _first = time.perf_counter()
        _first_cpu = time.process_time()


def _done_one() -> None:
    global _count
    _count += 1
    if _count == int(os.environ["BENCH_COUNT"]):
        cpu = time.process_time() - _first_cpu
        stats = {"first": _first, "last": time.perf_counter(), "cpu": cpu, "latencies": _latencies}
        _write_stats(stats)


def _write_stats(stats: dict) -> None:
    """To BENCH_STATS, whole or not at all: bench reads it as soon as it exists."""
    path = os.environ["BENCH_STATS"]
    with open(path + ".part", "w") as out:
        json.dump(stats, out)
    os.rename(path + ".part", path)


class Trivial:
    def consume(self, amqp, msg) -> None:
        _begin()
        _done_one()

    def shutdown(self, exception) -> None:
        pass


class Sleeper(Trivial):
    def consume(self, amqp, msg) -> None:
        _begin()
        gevent.sleep(0.05)
        _done_one()


class Blocker(Trivial):
    """Blocks in the unpatched time.sleep, for executor: thread; its threads count under a
    lock."""

    _lock = threading.Lock()

    def consume(self, amqp, msg) -> None:
        with self._lock:
            _begin()
        time.sleep(0.05)
        with self._lock:
            _done_one()


class Republisher(Trivial):
    def consume(self, amqp, msg) -> None:
        _begin()
        amqp.publish("", os.environ["BENCH_OUT"], None, msg.body)
        _done_one()


def note_latency(headers: dict) -> None:
    """The time since the message's `sent` header: publish to consume."""
    _latencies.append(time.time() - float(headers["sent"]))


class Latency(Trivial):
    def consume(self, amqp, msg) -> None:
        _begin()
        note_latency(msg.headers)
        _done_one()


class FailsOnce(Trivial):
    """Raises on the first delivery of every message: the retry policy sends it through a delay
    queue, and its second delivery, the copy with an x-retry-count header, succeeds."""

    def consume(self, amqp, msg) -> None:
        _begin()
        if "x-retry-count" not in msg.headers:
            raise RuntimeError("fails once")
        _done_one()


def burn(loops: int) -> None:
    """Pure-Python CPU work: `loops` turns of a loop that holds the GIL throughout."""
    total = 0
    for n in range(loops):
        total += n * n


def _done_shared() -> None:
    """As `_done_one`, counted across the worker processes of one run: each appends a byte to
    BENCH_STATS.tally (O_APPEND writes do not interleave), and the process whose byte makes
    BENCH_COUNT writes the stats, its first time the earliest in BENCH_STATS.first."""
    stats = os.environ["BENCH_STATS"]
    os.write(_tally, b".")
    if os.fstat(_tally).st_size == int(os.environ["BENCH_COUNT"]):
        last = time.perf_counter()
        with open(stats + ".first") as firsts:
            first = min(float(line) for line in firsts)
        _write_stats({"first": first, "last": last, "latencies": []})


class Burner(Trivial):
    """About 1 ms of CPU per message (BENCH_BURN_LOOPS, calibrated by run.py), for runs with
    several worker processes. perf_counter is CLOCK_MONOTONIC: one clock for every process."""

    def __init__(self) -> None:
        global _tally
        if _tally is None:
            tally = os.environ["BENCH_STATS"] + ".tally"
            _tally = os.open(tally, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        self._loops = int(os.environ["BENCH_BURN_LOOPS"])

    def consume(self, amqp, msg) -> None:
        global _first
        if not _first:
            _first = time.perf_counter()
            with open(os.environ["BENCH_STATS"] + ".first", "a") as firsts:
                firsts.write(f"{_first!r}\n")
        burn(self._loops)
        _done_shared()


_tally: int | None = None
