"""The fault-injection harness: a stream of numbered, persistent messages on a durable queue,
a fault injected mid-stream, then the accounting: every id processed at least once, none
lost, duplicates only among messages in flight at a fault."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from daemons import consumer_config
from waiting import wait_for

OUTCOMES: list[Outcome] = []


@dataclass
class Outcome:
    fault: str
    sent: int
    processed: int = 0
    duplicated: int = 0
    lost: int = 0
    failovers: list[float] = field(default_factory=list)  # seconds, fault to consuming again
    notes: str = ""  # what else a test counted, on a line of its own in the report


@dataclass
class Stream:
    """`count` messages, each a short piece of work for the Scripted consumer, on the node of
    `broker` (the test's client), where the stream's daemons connect too."""

    broker: object
    daemon_factory: object
    fault: str
    count: int = 600
    consumer_count: int = 4
    prefetch_count: int = 8
    work: list | Callable[[int], list] = field(default_factory=lambda: [["sleep", 0.02]])
    queue_keys: dict = field(default_factory=dict)  # of the queue's entry in the config
    windows: list[tuple[float, float]] = field(default_factory=list)
    daemons: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self.queue = self.broker.queue_name("fault")
        self.config = consumer_config(
            self.queue, self.consumer_count, self.prefetch_count, durable=True, **self.queue_keys
        )

    def publish(self, first: int = 0, last: int | None = None) -> None:
        """Messages `first` to `last` (excluded) of the stream; all of them by default."""
        self.broker.channel.queue_declare(self.queue, durable=True, arguments=self.arguments())
        ids = range(first, self.count if last is None else last)
        self.broker.publish_many(self.queue, [{"id": n, "do": self.steps(n)} for n in ids])

    def steps(self, n: int) -> list:
        """What message `n` says to do: `work`, or what `work(n)` gives when it is a function."""
        return self.work(n) if callable(self.work) else self.work

    def run_half(self, first: int, last: int, fault) -> None:
        """Messages `first` to `last` published; once a fifth of them is processed, the fault,
        then the rest processed. The test's client connects afresh first: its node may be one
        an earlier fault hit."""
        self.broker.reconnect()
        self.publish(first, last)
        self.wait_processed(first + (last - first) // 5)
        self.inject(fault)
        self.wait_processed(last, timeout=120)

    def arguments(self) -> dict:
        """The queue's arguments, as the config's x_ keys give them to the daemon."""
        keys = self.queue_keys.items()
        return {key.replace("_", "-"): value for key, value in keys if key.startswith("x_")}

    def start(self, **env: str):
        daemon = self.daemon_factory(self.config, self.broker.node, **env)
        daemon.start().wait_ready(timeout=60)
        self.daemons.append(daemon)
        return daemon

    def records(self, event: str) -> list[dict]:
        return [r for daemon in self.daemons for r in daemon.records(event)]

    def processed(self) -> set:
        return {r["id"] for r in self.records("done")}

    def wait_processed(self, at_least: int, timeout: float = 60) -> None:
        wait_for(lambda: len(self.processed()) >= at_least, timeout, f"{at_least} processed")

    def inject(self, fault) -> None:
        """Run `fault()` and remember when: duplicates must come from around that time."""
        began = time.time()
        fault()
        self.windows.append((began, time.time()))

    def account(self) -> Outcome:
        """Once every daemon has stopped: the queue's state and what the consumers did."""
        self.broker.reconnect()
        assert self.broker.messages(self.queue) == 0, "the queue should be empty"
        done = [r["id"] for r in self.records("done")]
        outcome = Outcome(self.fault, self.count, len(set(done)))
        outcome.duplicated = len(done) - len(set(done))
        outcome.lost = self.count - len(set(done) & set(range(self.count)))
        outcome.failovers = self.failovers()
        OUTCOMES.append(outcome)
        assert outcome.lost == 0, f"lost {outcome.lost} messages"
        self._check_duplicates_were_in_flight()
        return outcome

    def failovers(self) -> list[float]:
        """For each fault after which the daemon subscribed again: the seconds from the fault
        to the first message consumed on a new subscription (a consumer tag not seen before),
        before the next fault (a fault that left the subscription alone has none)."""
        consumed = sorted(self.records("consume"), key=lambda r: r["t"])
        failovers = []
        nexts = [began for began, _ in self.windows[1:]] + [float("inf")]
        for (began, _), following in zip(self.windows, nexts, strict=False):
            before = {r["delivery_info"]["consumer_tag"] for r in consumed if r["t"] < began}
            after = (
                r["t"] - began
                for r in consumed
                if began <= r["t"] < following and r["delivery_info"]["consumer_tag"] not in before
            )
            failover = next(after, None)
            if failover is not None:
                failovers.append(failover)
        return failovers

    def _check_duplicates_were_in_flight(self, slack: float = 1.0) -> None:
        first_start, first_done, seen = {}, {}, set()
        for record in sorted(self.records("consume") + self.records("done"), key=lambda r: r["t"]):
            if record["event"] == "consume":
                first_start.setdefault(record["id"], record["t"])
            elif record["id"] in seen:
                assert any(
                    first_start[record["id"]] <= end + slack
                    and first_done[record["id"]] >= began - slack
                    for began, end in self.windows
                ), f"message {record['id']} was processed twice but was not in flight at a fault"
            else:
                seen.add(record["id"])
                first_done[record["id"]] = record["t"]


def pool_intact(daemon, consumer_count: int) -> bool:
    return len(daemon.records("init")) - len(daemon.records("shutdown")) == consumer_count


def stop(daemon, consumer_count: int = 4) -> None:
    """Stop a stream's daemon, which should have run all along with its pool whole."""
    assert daemon.process.poll() is None, "the daemon should still be running"
    assert pool_intact(daemon, consumer_count)
    assert daemon.stop() == 0


def report(terminalreporter) -> None:
    """The table of outcomes, at the end of the run (called from tests/conftest.py)."""
    terminalreporter.section("fault injection: messages")
    terminalreporter.line(
        f"{'fault':64} {'sent':>5} {'processed':>9} {'duplicated':>10} {'lost':>4}  failover (s)"
    )
    for o in OUTCOMES:
        failovers = ", ".join(f"{seconds:.2f}" for seconds in o.failovers) or "-"
        terminalreporter.line(
            f"{o.fault:64} {o.sent:>5} {o.processed:>9} {o.duplicated:>10} {o.lost:>4}  {failovers}"
        )
        if o.notes:
            terminalreporter.line(f"    {o.notes}")
