"""Which process this is: the arbiter, or worker N of it. Log lines and connection names say so,
so that an operator can tell the workers apart; stdlib only, for every layer reads it."""

from __future__ import annotations

import os

_worker: int | None = None


def become_worker(number: int) -> None:
    global _worker
    _worker = number


def worker() -> int | None:
    """This worker's number, from 1; None in the arbiter, or outside one."""
    return _worker


def label() -> str:
    """'worker=3 pid=1234' in a worker; '' elsewhere."""
    return "" if _worker is None else f"worker={_worker} pid={os.getpid()}"
