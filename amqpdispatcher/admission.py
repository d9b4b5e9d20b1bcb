"""Which connections the HTTP endpoint keeps open: at most a given number, and, at that number,
room made for a new one by evicting the oldest that has not sent its request yet."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

Conn = TypeVar("Conn")


class Connections(Generic[Conn]):
    """The open connections, oldest first, each either waiting for its request (line and
    headers) or busy answering one.

    Evicting the oldest waiting one, rather than refusing the newcomer, keeps a prober served
    while slow clients keep connecting: its request comes in at once, and a connection that has
    sent its request is never evicted."""

    def __init__(self, limit: int, evict: Callable[[Conn], None]) -> None:
        self.limit = limit
        self._evict = evict
        self._waiting: dict[Conn, bool] = {}  # in the order they were admitted

    def __len__(self) -> int:
        return len(self._waiting)

    def __iter__(self) -> Iterator[Conn]:
        return iter(list(self._waiting))

    def admit(self, conn: Conn) -> bool:
        """Hold `conn` open, waiting, after evicting the oldest waiting connection if at the
        limit; False if at the limit with every connection busy."""
        if len(self._waiting) >= self.limit:
            oldest = next((c for c, waiting in self._waiting.items() if waiting), None)
            if oldest is None:
                return False
            del self._waiting[oldest]
            self._evict(oldest)
        self._waiting[conn] = True
        return True

    def waiting(self, conn: Conn) -> None:
        """`conn` waits for a request: evictable again (keep-alive), at its first place."""
        if conn in self._waiting:
            self._waiting[conn] = True

    def busy(self, conn: Conn) -> None:
        if conn in self._waiting:
            self._waiting[conn] = False

    def closed(self, conn: Conn) -> None:
        self._waiting.pop(conn, None)
