"""`make bench`: the dispatcher, through its real command line and config, against a raw pika
consumer in the same run. Runs the scenarios (scenarios.py), takes the medians, checks them
against the targets and writes the report (report.py): bench/results/latest.json, .md and .png.
`--quick` runs every scenario once, small (make test), and writes quick.json, .md and .png."""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable

import scenarios
from machine import machine
from report import write
from runs import Broker

FULL = {
    "runs": 3,
    "trivial": 50_000,
    "many_queues": 50_000,
    "io": 20_000,
    "threaded": 5_000,
    "republish": 20_000,
    "retry": 10_000,
    "latency_s": 20,
    "memory": (100_000, 1_000_000),
    "cpu": 6_000,
}
QUICK = {
    "runs": 1,
    "trivial": 5_000,
    "many_queues": 5_000,
    "io": 2_000,
    "threaded": 500,
    "republish": 2_000,
    "retry": 2_000,
    "latency_s": 2,
    "memory": (10_000, 50_000),
    "cpu": 1_000,
}

# The throughput scenarios, run `runs` times, interleaved, and the size each takes. Each returns
# its rate, peak RSS and CPU per message (features_on, also the number of /metrics scrapes
# answered).
ROUND: dict[str, tuple[Callable[[Broker, int], tuple], str]] = {
    "raw": (scenarios.raw_acks, "trivial"),
    "raw_auto_ack": (scenarios.raw_auto_ack, "trivial"),
    "trivial": (scenarios.trivial, "trivial"),
    "features_on": (scenarios.features_on, "trivial"),
    "tracing_on": (scenarios.tracing_on, "trivial"),
    "tracing_off": (scenarios.tracing_off, "trivial"),
    "many_queues": (scenarios.many_queues, "many_queues"),
    "io": (scenarios.io, "io"),
    "threaded": (scenarios.threaded, "threaded"),
    "republish": (scenarios.republish, "republish"),
    "retry": (scenarios.retry, "retry"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each scenario once, small")
    quick = parser.parse_args().quick
    sizes = QUICK if quick else FULL
    broker = Broker()
    loops = scenarios.calibrate()
    runs: dict[str, list[tuple]] = {}
    for _ in range(sizes["runs"]):
        for name, (scenario, size) in ROUND.items():
            runs.setdefault(name, []).append(scenario(broker, sizes[size]))
        for name, result in scenarios.cpu(broker, sizes["cpu"], loops).items():
            runs.setdefault(name, []).append(result)
    results = {
        "quick": quick,
        "runs": sizes["runs"],
        "machine": machine(broker.version()),
        "rates": {name: statistics.median(run[0] for run in each) for name, each in runs.items()},
        "peak_rss_mb": {name: max(run[1] for run in each) for name, each in runs.items()},
        "cpu_us_per_message": {name: _cpu_medians(each) for name, each in runs.items()},
        "metrics_scrapes": [run[3] for run in runs["features_on"]],
        "cpu_burn_loops_per_ms": loops,
        "latency": scenarios.latency(broker, sizes["latency_s"]),
        "memory": scenarios.memory(broker, sizes["memory"]),
    }
    write(results, "quick" if quick else "latest")


def _cpu_medians(each: list[tuple]) -> dict[str, float | None]:
    """The consumer's and the broker's median CPU µs per message, None where unknown."""
    medians = {}
    for side in ("consumer", "broker"):
        known = [run[2][side] for run in each if run[2][side] is not None]
        medians[side] = statistics.median(known) if known else None
    return medians


if __name__ == "__main__":
    main()
