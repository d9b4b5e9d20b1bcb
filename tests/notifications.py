"""A stand-in for systemd's end of the notification protocol: a datagram socket to name in
NOTIFY_SOCKET, collecting what the daemon sends."""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path


class NotifySocket:
    """Bound to a path in a short temporary directory (a socket path has at most 107 bytes),
    or, given `abstract`, to that abstract name. Use as a context manager."""

    def __init__(self, abstract: str | None = None) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="notify-")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        if abstract is None:
            self.name = str(Path(self._directory.name) / "notify.sock")
            self.sock.bind(self.name)
        else:
            self.name = "@" + abstract
            self.sock.bind("\0" + abstract)
        self.received: list[str] = []

    def messages(self) -> list[str]:
        """Everything received so far, each datagram as one string, oldest first."""
        while True:
            try:
                self.received.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return self.received

    def __enter__(self) -> NotifySocket:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.sock.close()
        self._directory.cleanup()
