"""Polling for what a test waits for, yielding to gevent between polls: the greenlets of an
in-process test run while it waits."""

from __future__ import annotations

import time

import gevent


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    # In a callback of the loop (a log handler run by the hub) nothing else can run, and
    # gevent.sleep would raise: there the wait blocks.
    pause = time.sleep if gevent.getcurrent() is gevent.get_hub() else gevent.sleep
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        pause(0.05)
