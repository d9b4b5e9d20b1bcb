"""bench/report.py: the targets checked against a run's results, the Markdown table, the
summary line and the chart, on made-up results."""

import sys
from pathlib import Path

# bench/ is not a package: bench's modules import each other as top-level modules. Last on the
# path, since tests/ has modules of the same names (middlewares).
sys.path.append(str(Path(__file__).parents[2] / "bench"))

from report import (  # noqa: E402
    FAIL,
    MISSING,
    PASS,
    REPORT,
    TARGETS,
    Target,
    chart,
    evaluate,
    markdown,
    summary,
)

AT_LEAST = Target(
    "fast / ref",
    "returns at once",
    ("rates", "fast"),
    "msg/s",
    ("rates", "ref"),
    "the reference",
    ">=",
    0.6,
)
AT_MOST = Target("p99", "publish to consume", ("latency", "p99_ms"), "ms", op="<=", limit=0.5)
IDEAL = Target(
    "io / ideal", "sleeps", ("rates", "io"), "msg/s", 10_000, "ideal", ">=", 0.95, source="ours"
)
ONLY = Target("two / one", "two processes", ("rates", "two"), "msg/s", ("rates", "one"), "one")

MACHINE = {
    "date": "2026-12-04 12:00 UTC",
    "cores": 2,
    "memory_gib": 23.5,
    "kernel": "6.18.44",
    "python": "3.11.7",
    "pika": "1.4.4",
    "gevent": "26.9.0",
    "broker": "RabbitMQ 3.10.8",
}


def results(**sections: dict) -> dict:
    return {"quick": False, "runs": 3, "machine": MACHINE, **sections}


def statuses(outcomes) -> list[str]:
    return [outcome.status for outcome in outcomes]


def test_an_at_least_target_passes_at_its_limit_and_fails_below():
    at = evaluate(results(rates={"fast": 600, "ref": 1000}), (AT_LEAST,))[0]
    below = evaluate(results(rates={"fast": 599, "ref": 1000}), (AT_LEAST,))[0]
    assert (at.status, at.ratio, at.ours, at.reference) == (PASS, 0.6, 600, 1000)
    assert (below.status, below.ratio) == (FAIL, 0.599)


def test_an_at_most_target_compares_the_value_itself():
    at, above = (evaluate(results(latency={"p99_ms": p99}), (AT_MOST,))[0] for p99 in (0.5, 0.51))
    assert (at.status, at.compared, at.ratio) == (PASS, 0.5, None)
    assert (above.status, above.compared) == (FAIL, 0.51)


def test_a_number_as_reference_is_used_as_it_is():
    outcome = evaluate(results(rates={"io": 9_600}), (IDEAL,))[0]
    assert (outcome.status, outcome.reference, outcome.ratio) == (PASS, 10_000, 0.96)


def test_a_value_or_a_reference_missing_or_zero_is_no_value():
    cases = [
        results(),
        results(rates={"ref": 1000}),
        results(rates={"fast": 600}),
        results(rates={"fast": 600, "ref": 0}),
        results(rates={"fast": "n/a", "ref": 1000}),
    ]
    for case in cases:
        outcome = evaluate(case, (AT_LEAST,))[0]
        assert (outcome.status, outcome.compared) == (MISSING, None)


def test_a_row_without_a_target_is_reported_only():
    outcome = evaluate(results(rates={"two": 1800, "one": 900}), (ONLY,))[0]
    assert (outcome.status, outcome.ratio) == (REPORT, 2.0)


def test_the_summary_names_each_target_missed_with_its_value_and_limit():
    outcomes = evaluate(
        results(rates={"fast": 520, "ref": 1000, "two": 1, "one": 1}, latency={"p99_ms": 0.625}),
        (AT_LEAST, AT_MOST, IDEAL, ONLY),
    )
    assert statuses(outcomes) == [FAIL, FAIL, MISSING, REPORT]
    assert summary(outcomes) == (
        "targets missed: fast / ref 0.52 < 0.6, p99 0.62 > 0.5, io / ideal (no value)"
    )


def test_the_summary_says_when_all_targets_are_met():
    outcomes = evaluate(
        results(rates={"fast": 700, "ref": 1000, "two": 1, "one": 1}, latency={"p99_ms": 0.3}),
        (AT_LEAST, AT_MOST, ONLY),
    )
    assert summary(outcomes) == "all targets met"


def test_the_markdown_has_the_run_the_machine_and_one_row_per_target():
    run = results(rates={"fast": 41_234.4, "ref": 60_000, "io": 9_000}, latency={"p99_ms": 0.42})
    lines = markdown(run, evaluate(run, (AT_LEAST, AT_MOST, IDEAL))).splitlines()
    assert lines[0] == "Full run, medians of 3 runs, 2026-12-04 12:00 UTC."
    assert lines[2] == (
        "Machine: 2 cores, 23.5 GiB, Linux 6.18.44; Python 3.11.7, pika 1.4.4, gevent 26.9.0; "
        "broker RabbitMQ 3.10.8."
    )
    assert lines[4] == "| scenario | measured | ours | reference | ratio | target | result |"
    assert lines[6:] == [
        "| fast / ref | returns at once | 41,234 msg/s | the reference: 60,000 msg/s | 0.69x "
        "| >= 0.6x | pass |",
        "| p99 | publish to consume | 0.42 ms | — | — | <= 0.5 ms | pass |",
        "| io / ideal | sleeps | 9,000 msg/s | ideal: 10,000 msg/s | 0.90x | >= 0.95x (ours) "
        "| **fail** |",
    ]


def test_the_markdown_of_a_quick_run_says_so_and_shows_missing_values():
    run = {**results(), "quick": True, "runs": 1}
    lines = markdown(run, evaluate(run, (AT_LEAST,))).splitlines()
    assert lines[0].startswith("Quick run (each scenario once, small")
    assert lines[-1] == (
        "| fast / ref | returns at once | — | the reference: — | — | >= 0.6x | no value |"
    )


def test_every_target_finds_its_values_in_a_complete_run():
    rates = dict.fromkeys(
        [
            "raw",
            "raw_auto_ack",
            "trivial",
            "features_on",
            "tracing_on",
            "tracing_off",
            "many_queues",
            "io",
            "threaded",
            "republish",
            "retry",
            "cpu_1",
            "cpu_2",
            "cpu_raw",
        ],
        1000.0,
    )
    memory = {
        "idle_1000_instances_mb": 30,
        "processes_2_largest_worker_mb": 31,
        "growth_percent": 0.1,
    }
    latency = {"p99_ms": 0.3, "raw_p99_ms": 0.25}
    outcomes = evaluate(results(rates=rates, latency=latency, memory=memory))
    assert MISSING not in statuses(outcomes)
    assert len(outcomes) == len(TARGETS)


def test_the_chart_is_a_png(tmp_path):
    run = results(rates={"fast": 520, "ref": 1000, "two": 2, "one": 1}, latency={"p99_ms": 0.3})
    path = tmp_path / "chart.png"
    chart(evaluate(run, (AT_LEAST, AT_MOST, IDEAL, ONLY)), path, "a run")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000


def test_the_markdown_ends_with_the_cpu_per_message_of_each_scenario():
    cpu = {"raw": {"consumer": 37.14, "broker": 43.0}, "cpu_2": {"consumer": None, "broker": 9.0}}
    run = results(rates={"fast": 1, "ref": 1}, cpu_us_per_message=cpu)
    lines = markdown(run, evaluate(run, (AT_LEAST,))).splitlines()
    assert lines[-4:] == [
        "| scenario | consumer | broker |",
        "|---|---|---|",
        "| raw | 37.1 | 43.0 |",
        "| cpu_2 | — | 9.0 |",
    ]
