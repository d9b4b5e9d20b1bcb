"""`consumers`: each entry's consumer class, queue, pool size, executor, time limit and options,
and its retry block (retry.py)."""

import keyword
from dataclasses import dataclass, field
from typing import Any

from ..substitution import shown
from .checks import IMPORT_PATH, NAME, REQUIRED, fields, int_between, one_of, seconds_up_to
from .paths import join
from .retry import RetrySpec, retry, retry_spec

MAX_PREFETCH_COUNT = 65535  # basic.qos prefetch_count is a 16-bit field
MAX_CONSUMER_COUNT = 10_000
MAX_THREADS = 1_000  # an executor's threads: each an OS thread with a stack of its own
GEVENT, THREAD = "gevent", "thread"  # where consume runs: executors.py
MAX_TIME_LIMIT = 7 * 24 * 3600  # seconds: a consume call's limit, a week at most


@dataclass(frozen=True)
class ConsumerSpec:
    consumer: str
    queue: str
    consumer_count: int
    prefetch_count: int
    path: str
    # The constructor's keyword arguments; left out of the hash, so that middleware can still
    # key a dict by the spec.
    options: dict[str, Any] = field(default_factory=dict, hash=False)
    retry: RetrySpec | None = field(default=None, hash=False)
    executor: str = GEVENT
    threads: int | None = None  # with executor: thread, the size of its pool of threads
    time_limit: float | None = None  # seconds a consume call may run: timelimits.py


def consumer(entry: dict, path: str, problems: list[str]) -> ConsumerSpec:
    values = fields(entry, path, _FIELDS, problems)
    values["threads"] = _threads(values, path, problems)
    block, queue = values.pop("retry"), values["queue"]
    if block is None or queue is None:
        return ConsumerSpec(path=path, **values)
    return ConsumerSpec(path=path, retry=retry_spec(block, queue, path), **values)


def _threads(values: dict, path: str, problems: list[str]) -> int | None:
    """The pool's threads: one per instance unless `threads` says; only for executor: thread."""
    threads = values["threads"]
    if values["executor"] != THREAD:
        if threads is not None:
            problems.append(f"{join(path, 'threads')}: only with executor: {THREAD}")
        return None
    return threads or min(values["consumer_count"], MAX_THREADS)


def _options(value: Any, path: str, problems: list[str]) -> dict | None:
    """Keyword arguments for the consumer's constructor: names that Python can take."""
    if not isinstance(value, dict):
        problems.append(f"{path}: expected a mapping of option names to values, got {shown(value)}")
        return None
    for key in value:
        if not isinstance(key, str) or not key.isidentifier():
            problems.append(f"{join(path, key)}: an option name must be a Python identifier")
        elif keyword.iskeyword(key):
            problems.append(f"{join(path, key)}: an option name cannot be a Python keyword")
    return value


_FIELDS = {
    "consumer": (IMPORT_PATH, REQUIRED),
    "queue": (NAME, REQUIRED),
    "consumer_count": (int_between(1, MAX_CONSUMER_COUNT), 1),
    "prefetch_count": (int_between(0, MAX_PREFETCH_COUNT), 1),
    "executor": (one_of(GEVENT, THREAD), GEVENT),
    "threads": (int_between(1, MAX_THREADS), None),
    "time_limit": (seconds_up_to(MAX_TIME_LIMIT), None),
    "options": (_options, {}),
    "retry": (retry, None),
}
