"""`retry` of a consumers entry: how often a failed message is tried again, after which delays,
and where it is archived then."""

from dataclasses import dataclass
from typing import Any

from ..retry.queues import default_archive_queue
from .checks import NAME, REQUIRED, SECONDS, fields, int_between, is_mapping, scalars

MAX_RETRIES = 2**31 - 1  # x-retry-count then fits a signed 32-bit header value


@dataclass(frozen=True)
class RetrySpec:
    """A consumer's `retry` block: seconds throughout, the archive queue's name resolved."""

    max_retries: int
    backoff: tuple[float, ...]
    archive_queue: str
    archive_ttl: float | None
    path: str  # of the block, such as consumers[0].retry


def retry(value: Any, path: str, problems: list[str]) -> dict | None:
    """The block's values, or None if it has a problem."""
    if not is_mapping(value, path, problems):
        return None
    found = len(problems)
    values = fields(value, path, _FIELDS, problems)
    if values["backoff"] == ():
        problems.append(f"{path}.backoff: expected at least one delay")
    return values if len(problems) == found else None


def retry_spec(values: dict, queue: str, path: str) -> RetrySpec:
    """The spec of the block `retry` read, for the consumers entry at `path` of `queue`."""
    return RetrySpec(
        max_retries=values["max_retries"],
        backoff=values["backoff"],
        archive_queue=values["archive_queue"] or default_archive_queue(queue),
        archive_ttl=values["archive_ttl"],
        path=f"{path}.retry",
    )


_FIELDS = {
    "max_retries": (int_between(0, MAX_RETRIES), REQUIRED),
    "backoff": (scalars(SECONDS), REQUIRED),
    "archive_queue": (NAME, None),
    "archive_ttl": (SECONDS, None),
}
