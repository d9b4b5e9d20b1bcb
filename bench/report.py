"""The targets (issue 20's, and one of ours) and how a run meets them; the report of a run: a
Markdown table, one summary line, a chart, and all of it in JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS = Path(__file__).parent / "results"

Where = tuple[str, ...]  # where a value is in the results: ("rates", "trivial")

PASS, FAIL, MISSING, REPORT = "pass", "fail", "no value", "report only"
COLOURS = {PASS: "#2e7d32", FAIL: "#c62828", MISSING: "#9e9e9e", REPORT: "#90a4ae"}
DIGITS = {"msg/s": 0, "MB": 1, "ms": 2, "%": 2}


@dataclass(frozen=True)
class Target:
    """One row of the report. With a `reference` (where it is in the results, or a number),
    the ratio ours / reference is compared with `limit`; without, our value itself is. With no
    `op` the row is reported only."""

    name: str
    measured: str
    ours: Where
    unit: str
    reference: Where | float | None = None
    reference_name: str = ""
    op: str | None = None  # ">=" or "<="
    limit: float | None = None
    source: str = "issue 20"


@dataclass(frozen=True)
class Outcome:
    target: Target
    ours: float | None
    reference: float | None
    compared: float | None  # the ratio, or our value where there is no reference
    status: str  # PASS, FAIL, MISSING (a value lacks) or REPORT (no target)

    @property
    def ratio(self) -> float | None:
        return None if self.target.reference is None else self.compared


# What each scenario a throughput target is against stands for, in the report.
REFERENCES = {
    "raw_auto_ack": "raw pika, auto_ack",
    "raw": "raw pika, acks inline",
    "trivial": "trivial",
    "cpu_1": "1 process",
    "cpu_raw": "raw pika, same work",
}


def _rate(name: str, measured: str, reference: str, *goal: str | float) -> Target:
    """Scenario `name`'s rate against scenario `reference`'s; `goal`: op and limit, if any."""
    ours, against = ("rates", name), ("rates", reference)
    return Target(
        f"{name} / {reference}", measured, ours, "msg/s", against, REFERENCES[reference], *goal
    )


TRIVIAL = "`Trivial` returns at once; 100 instances, prefetch 100"
BURN = "1 ms of CPU per message; 10 instances, prefetch 20 per process"
TARGETS = (
    _rate("trivial", TRIVIAL, "raw_auto_ack", ">=", 0.6),
    _rate("trivial", TRIVIAL, "raw", ">=", 1.3),
    _rate(
        "features_on",
        "trivial with JSON logs, /metrics scraped each second, a retry block, a no-op middleware",
        "trivial",
        ">=",
        0.9,
    ),
    _rate("tracing_on", "trivial with `tracing: true`, every span kept in memory", "trivial"),
    _rate("tracing_off", "trivial with `tracing: false`, the otel extra installed", "trivial"),
    _rate(
        "many_queues", "`Trivial` on 20 queues, 5 instances, prefetch 20 each", "trivial", ">=", 0.9
    ),
    Target(
        "io / ideal",
        "`gevent.sleep(0.05)`; 500 instances, prefetch 500",
        ("rates", "io"),
        "msg/s",
        10_000,
        "ideal",
        ">=",
        0.95,
    ),
    Target(
        "threaded / ideal",
        "unpatched `time.sleep(0.05)` in 50 threads",
        ("rates", "threaded"),
        "msg/s",
        1_000,
        "ideal",
        ">=",
        0.9,
        source="ours",
    ),
    _rate("republish", "publishes one message, confirmed", "trivial", ">=", 0.7),
    _rate("retry", "every message fails once, retried after 1 ms", "trivial", ">=", 0.5),
    _rate("cpu_2", f"{BURN}: 2 worker processes", "cpu_1"),
    _rate("cpu_1", f"{BURN}: 1 process", "cpu_raw"),
    Target(
        "latency p99",
        "publish to `consume` at 1,000 msg/s",
        ("latency", "p99_ms"),
        "ms",
        op="<=",
        limit=0.5,
    ),
    Target(
        "latency p99 / raw",
        "the same, raw pika acking inline: the broker's and pika's own share",
        ("latency", "p99_ms"),
        "ms",
        ("latency", "raw_p99_ms"),
        "raw pika",
    ),
    Target(
        "idle memory",
        "the worker's RSS with 1,000 idle instances",
        ("memory", "idle_1000_instances_mb"),
        "MB",
        op="<=",
        limit=60,
    ),
    Target(
        "memory growth",
        "the worker's RSS growth from 100,000 to 1,000,000 messages (quick: 10,000 to 50,000)",
        ("memory", "growth_percent"),
        "%",
        op="<=",
        limit=1,
    ),
    Target(
        "idle memory, 2 processes",
        "the largest worker's RSS with 1,000 idle instances and `--processes 2`",
        ("memory", "processes_2_largest_worker_mb"),
        "MB",
        ("memory", "idle_1000_instances_mb"),
        "1 process",
        "<=",
        1.10,
    ),
)


def evaluate(results: dict, targets: tuple[Target, ...] = TARGETS) -> list[Outcome]:
    return [_evaluate(target, results) for target in targets]


def _evaluate(target: Target, results: dict) -> Outcome:
    ours = _value(results, target.ours)
    reference = None if target.reference is None else _value(results, target.reference)
    if ours is None or (target.reference is not None and not reference):
        compared = None
    else:
        compared = ours if reference is None else ours / reference
    if target.op is None:
        status = REPORT
    elif compared is None:
        status = MISSING
    elif compared >= target.limit if target.op == ">=" else compared <= target.limit:
        status = PASS
    else:
        status = FAIL
    return Outcome(target, ours, reference, compared, status)


def _value(results: dict, where: Where | float) -> float | None:
    if isinstance(where, int | float):
        return float(where)
    value: object = results
    for key in where:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return float(value) if isinstance(value, int | float) else None


def summary(outcomes: list[Outcome]) -> str:
    """One line: the targets missed, each with its value and its limit."""
    missed = [_missed(outcome) for outcome in outcomes if outcome.status in (FAIL, MISSING)]
    return "targets missed: " + ", ".join(missed) if missed else "all targets met"


def _missed(outcome: Outcome) -> str:
    target = outcome.target
    if outcome.status == MISSING:
        return f"{target.name} (no value)"
    worse = "<" if target.op == ">=" else ">"
    return f"{target.name} {outcome.compared:.2f} {worse} {target.limit:g}"


def markdown(results: dict, outcomes: list[Outcome]) -> str:
    """The run, the machine, and the table of targets."""
    machine = results["machine"]
    if results["quick"]:
        run = "Quick run (each scenario once, small: the numbers mean little)"
    else:
        run = f"Full run, medians of {results['runs']} runs"
    lines = [
        f"{run}, {machine['date']}.",
        "",
        f"Machine: {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"Linux {machine['kernel']}; Python {machine['python']}, pika {machine['pika']}, "
        f"gevent {machine['gevent']}; broker {machine['broker']}.",
        "",
        "| scenario | measured | ours | reference | ratio | target | result |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(_cells(outcome)) + " |" for outcome in outcomes]
    return "\n".join(lines + _cpu_table(results.get("cpu_us_per_message", {}))) + "\n"


def _cpu_table(cpu: dict[str, dict]) -> list[str]:
    """Where a scenario's time goes: CPU µs per message, the consumer's and the broker's."""
    if not cpu:
        return []
    lines = [
        "",
        "CPU time per message, in µs (medians): the consumer's process, from its first message to "
        "its last (the worker's; raw pika's own), and the broker's Erlang VM, from the consumer's "
        "start (with whatever else it served meanwhile); — where unknown.",
        "",
        "| scenario | consumer | broker |",
        "|---|---|---|",
    ]
    for name, sides in cpu.items():
        cells = [
            "—" if sides[side] is None else f"{sides[side]:.1f}" for side in ("consumer", "broker")
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _cells(outcome: Outcome) -> list[str]:
    target = outcome.target
    reference = "—"
    if target.reference is not None:
        reference = f"{target.reference_name}: {_amount(outcome.reference, target.unit)}"
    ratio = "—" if outcome.ratio is None else f"{outcome.ratio:.2f}x"
    return [
        target.name,
        target.measured,
        _amount(outcome.ours, target.unit),
        reference,
        ratio,
        _goal(target),
        f"**{FAIL}**" if outcome.status == FAIL else outcome.status,
    ]


def _amount(value: float | None, unit: str) -> str:
    return "—" if value is None else f"{value:,.{DIGITS[unit]}f} {unit}"


def _goal(target: Target) -> str:
    if target.op is None:
        return "—"
    goal = f"{target.op} {target.limit:g}" + (
        "x" if target.reference is not None else f" {target.unit}"
    )
    return goal if target.source == "issue 20" else f"{goal} ({target.source})"


def chart(outcomes: list[Outcome], path: Path, title: str) -> None:
    """Horizontal bars, coloured by status, each with its target as a black tick: the ratios
    above, and below, the values with a limit of their own as a fraction of it (limit = 1)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    panels = [
        (rows, label)
        for rows, label in (
            ([o for o in outcomes if o.target.reference is not None], "ours / reference"),
            ([o for o in outcomes if o.target.reference is None], "ours / limit"),
        )
        if rows
    ]
    figure = Figure(figsize=(9, 1.6 + 0.42 * len(outcomes)), layout="constrained")
    FigureCanvasAgg(figure)
    heights = [len(rows) for rows, _ in panels]
    axes = figure.subplots(len(panels), 1, squeeze=False, height_ratios=heights)[:, 0]
    for ax, (rows, label) in zip(axes, panels, strict=True):
        _panel(ax, rows, label)
    figure.suptitle(title)
    shown = {outcome.status for outcome in outcomes}
    legend = [
        Patch(color=colour, label=status) for status, colour in COLOURS.items() if status in shown
    ]
    figure.legend(handles=legend, loc="outside lower center", ncols=len(legend), frameon=False)
    figure.savefig(path, dpi=100)


def _panel(ax, rows: list[Outcome], label: str) -> None:
    """One panel of bars; each labelled with its value and its target, right of both."""
    ratios = rows[0].target.reference is not None
    widths, ticks, texts = [], [], []
    for outcome in rows:
        target, compared = outcome.target, outcome.compared
        scale = 1.0 if ratios or target.limit is None else target.limit
        widths.append(0.0 if compared is None else compared / scale)
        ticks.append(0.0 if target.limit is None else target.limit / scale)
        if compared is None:
            shown = MISSING
        else:
            shown = f"{compared:.2f}x" if ratios else _amount(compared, target.unit)
        goal = "" if target.op is None else f"   target {_goal(target)}"
        texts.append(shown + goal)
    span = max([*widths, *ticks, 0.1]) * 1.5
    ys = range(len(rows) - 1, -1, -1)
    ax.barh(list(ys), widths, color=[COLOURS[outcome.status] for outcome in rows], height=0.6)
    for y, width, tick, text in zip(ys, widths, ticks, texts, strict=True):
        if tick:
            ax.plot([tick, tick], [y - 0.42, y + 0.42], color="black", linewidth=2.5)
        ax.text(max(width, tick) + span * 0.015, y, text, va="center", fontsize=9)
    ax.set_yticks(list(ys), [outcome.target.name for outcome in rows])
    ax.set_xlim(0, span)
    ax.set_xlabel(f"{label} (black tick: the target)")
    ax.grid(axis="x", alpha=0.3)


def write(results: dict, stem: str) -> None:
    """`stem`.json, .md and .png in bench/results/; the table and the summary on stdout."""
    outcomes = evaluate(results)
    results = {
        **results,
        "ratios": {o.target.name: o.ratio for o in outcomes if o.ratio is not None},
        "targets": [
            {
                **asdict(o.target),
                "our_value": o.ours,
                "reference_value": o.reference,
                "compared": o.compared,
                "status": o.status,
            }
            for o in outcomes
        ],
        "pass": all(outcome.status in (PASS, REPORT) for outcome in outcomes),
    }
    RESULTS.mkdir(exist_ok=True)
    files = {suffix: RESULTS / f"{stem}.{suffix}" for suffix in ("json", "md", "png")}
    files["json"].write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results, outcomes)
    files["md"].write_text(table)
    kind = "quick run" if results["quick"] else f"medians of {results['runs']} runs"
    chart(outcomes, files["png"], f"amqp-dispatcher bench, {kind}, {results['machine']['date']}")
    print(f"\nwritten to {', '.join(str(path) for path in files.values())}\n")
    print(table)
    print(summary(outcomes))
