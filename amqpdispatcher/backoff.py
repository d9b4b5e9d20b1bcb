"""Waiting between retries: capped exponential backoff with jitter."""

from __future__ import annotations

import random
from collections.abc import Iterator

FIRST = 0.25
CAP = 30.0


def delays(first: float = FIRST, cap: float = CAP) -> Iterator[float]:
    """Endless delays: each drawn from the upper half of a window that doubles up to `cap`,
    so that daemons restarted together do not retry in step."""
    window = first
    while True:
        yield random.uniform(window / 2, window)
        window = min(window * 2, cap)
