"""The connections the HTTP endpoint dropped, counted by reason and reported in one line at
most once per interval, so that a flood of bad clients costs a few log lines, not one each."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable


class DropReport:
    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._counts: Counter[str] = Counter()
        self._since = clock()  # the start of what the next report covers
        self._next = self._since  # the earliest time of the next report

    def add(self, reason: str) -> float:
        """Count one drop; the seconds until a report is due (0: now)."""
        self._counts[reason] += 1
        return max(0.0, self._next - self._clock())

    def take(self) -> str | None:
        """The report of the drops counted since the last one, if any, and the interval
        starts again."""
        if not self._counts:
            return None
        now = self._clock()
        total = sum(self._counts.values())
        details = ", ".join(f"{count} {reason}" for reason, count in self._counts.items())
        line = (
            f"HTTP endpoint dropped {total} connection{'s' if total > 1 else ''} in the last "
            f"{now - self._since:.0f} s: {details} (one such line every {self.interval:g} s "
            "at most)"
        )
        self._counts.clear()
        self._since, self._next = now, now + self.interval
        return line
