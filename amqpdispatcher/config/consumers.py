"""`consumers`: each entry's consumer class, queue, pool size and options, and its retry
block (retry.py)."""

import keyword
from dataclasses import dataclass, field
from typing import Any

from ..substitution import shown
from .checks import IMPORT_PATH, NAME, REQUIRED, fields, int_between
from .paths import join
from .retry import RetrySpec, retry, retry_spec

MAX_PREFETCH_COUNT = 65535  # basic.qos prefetch_count is a 16-bit field
MAX_CONSUMER_COUNT = 10_000


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


def consumer(entry: dict, path: str, problems: list[str]) -> ConsumerSpec:
    values = fields(entry, path, _FIELDS, problems)
    block, queue = values.pop("retry"), values["queue"]
    if block is None or queue is None:
        return ConsumerSpec(path=path, **values)
    return ConsumerSpec(path=path, retry=retry_spec(block, queue, path), **values)


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
    "options": (_options, {}),
    "retry": (retry, None),
}
