"""Polling for what a test waits for, yielding to gevent between polls: the greenlets of an
in-process test run while it waits."""

from __future__ import annotations

import time

import gevent


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        gevent.sleep(0.05)
