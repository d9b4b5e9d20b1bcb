"""The HTTP endpoint's pure bookkeeping: which connection makes room for a new one, and how
dropped connections are counted into rate-limited report lines."""

from __future__ import annotations

from amqpdispatcher.admission import Connections
from amqpdispatcher.drops import DropReport


def connections(limit: int) -> tuple[Connections[str], list[str]]:
    evicted: list[str] = []
    return Connections(limit, evicted.append), evicted


def test_under_the_limit_nothing_is_evicted():
    held, evicted = connections(3)
    assert all(held.admit(name) for name in "abc")
    assert (len(held), evicted) == (3, [])


def test_at_the_limit_the_oldest_waiting_connection_makes_room():
    held, evicted = connections(3)
    for name in "abc":
        held.admit(name)
    assert held.admit("d")
    assert held.admit("e")
    assert (len(held), evicted) == (3, ["a", "b"])


def test_a_connection_that_sent_its_request_is_never_evicted():
    held, evicted = connections(3)
    for name in "abc":
        held.admit(name)
    held.busy("a")
    assert held.admit("d")
    assert evicted == ["b"]


def test_when_every_connection_is_busy_the_newcomer_is_refused():
    held, evicted = connections(2)
    for name in "ab":
        held.admit(name)
        held.busy(name)
    assert not held.admit("c")
    assert (len(held), evicted) == (2, [])


def test_a_kept_alive_connection_waiting_again_goes_first_as_the_oldest():
    held, evicted = connections(3)
    for name in "abc":
        held.admit(name)
        held.busy(name)
    held.waiting("c")
    held.waiting("a")
    assert held.admit("d")
    assert evicted == ["a"]


def test_a_closed_connection_frees_its_place_and_is_forgotten():
    held, evicted = connections(2)
    for name in "ab":
        held.admit(name)
    held.closed("a")
    held.waiting("a")  # its greenlet's last steps after an eviction change nothing
    held.busy("a")
    assert held.admit("c")
    assert (len(held), evicted) == (2, [])
    held.closed("a")
    assert len(held) == 2


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_first_drop_is_reported_at_once():
    clock = Clock()
    report = DropReport(60, clock)
    clock.now += 5
    assert report.add("malformed") == 0
    assert report.take() == (
        "HTTP endpoint dropped 1 connection in the last 5 s: 1 malformed "
        "(one such line every 60 s at most)"
    )
    assert report.take() is None


def test_drops_within_the_interval_wait_for_its_end_and_are_summed_by_reason():
    clock = Clock()
    report = DropReport(60, clock)
    report.add("evicted")
    report.take()
    clock.now += 10
    waits = [report.add(reason) for reason in ["evicted"] * 1000 + ["timed out"] * 3]
    assert set(waits) == {50}
    clock.now += 50
    assert report.add("malformed") == 0
    assert report.take() == (
        "HTTP endpoint dropped 1004 connections in the last 60 s: 1000 evicted, 3 timed out, "
        "1 malformed (one such line every 60 s at most)"
    )
    clock.now += 1
    assert report.add("refused") == 59


def test_a_quiet_interval_lets_the_next_drop_be_reported_at_once():
    clock = Clock()
    report = DropReport(60, clock)
    report.add("evicted")
    report.take()
    clock.now += 600
    assert report.add("evicted") == 0
    assert report.take().startswith("HTTP endpoint dropped 1 connection in the last 600 s:")
