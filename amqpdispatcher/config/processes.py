"""`processes`: how many worker processes the arbiter runs (arbiter.py), 'auto' for one per CPU
the daemon may run on; --processes wins over it."""

import os

from .checks import is_int, read_int, scalar

AUTO = "auto"
MAX_PROCESSES = 256


def _is_processes(value: object) -> bool:
    return value == AUTO or (is_int(value) and 1 <= value <= MAX_PROCESSES)


def _read(value: str) -> int | str:
    return value if value == AUTO else read_int(value)


PROCESSES = scalar(f"an integer from 1 to {MAX_PROCESSES}, or '{AUTO}'", _is_processes, _read)


def process_count(value: int | str) -> int:
    """`value` as a number of processes: 'auto' is the CPUs this process may run on."""
    if value != AUTO:
        return int(value)
    if hasattr(os, "sched_getaffinity"):
        return min(len(os.sched_getaffinity(0)), MAX_PROCESSES)
    return min(os.cpu_count() or 1, MAX_PROCESSES)
