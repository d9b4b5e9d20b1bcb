"""Consumers for the benchmark. `_begin` notes when the first message started, `_done_one`
counts finished ones; when BENCH_COUNT are done, the time span and what the scenario measures
are written to BENCH_STATS."""

import itertools
import json
import os
import time

import gevent

_count = 0
_first = 0.0
_latencies: list[float] = []
_first_deliveries = itertools.count(1)


def _begin() -> None:
    global _first
    if not _first:
        _first = time.perf_counter()


def _done_one() -> None:
    global _count
    _count += 1
    if _count == int(os.environ["BENCH_COUNT"]):
        stats = {"first": _first, "last": time.perf_counter(), "latencies": _latencies}
        with open(os.environ["BENCH_STATS"], "w") as out:
            json.dump(stats, out)


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


class Republisher(Trivial):
    def consume(self, amqp, msg) -> None:
        _begin()
        amqp.publish("", os.environ["BENCH_OUT"], None, msg.body)
        _done_one()


class Latency(Trivial):
    def consume(self, amqp, msg) -> None:
        _begin()
        _latencies.append(time.time() - float(msg.headers["sent"]))
        _done_one()


class FailsOnce(Trivial):
    """Raises on the first delivery of one message in ten: the retry policy sends it through a
    delay queue, and its second delivery succeeds."""

    def consume(self, amqp, msg) -> None:
        _begin()
        if "x-retry-count" not in msg.headers and next(_first_deliveries) % 10 == 0:
            raise RuntimeError("fails once")
        _done_one()
