"""The tests' reading of the docs' pages (tests/rst.py)."""

from rst import shows


def test_a_line_shown_must_come_out():
    assert shows("2026-11-24 10:00:00,000 INFO [x] ready: 1\n", ["... INFO [x] ready: 1"])
    assert not shows("INFO [x] ready: 2\n", ["... INFO [x] ready: 1"])
    assert shows("orders.new\t0\n", ["orders.new   0"])
