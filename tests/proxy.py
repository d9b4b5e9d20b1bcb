"""A TCP proxy on loopback, put between the daemon and the broker to inject network faults:
cut every connection, or blackhole them (keep them open, drop every byte) so that only
heartbeats can tell. With a TLS context it is also the TLS endpoint in front of the broker."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading


class _Pair:
    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.sockets = (client, upstream)
        self.blackholed = False

    def close(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class Proxy:
    def __init__(
        self, upstream: tuple[str, int], tls: ssl.SSLContext | None = None, port: int = 0
    ) -> None:
        self.upstream = upstream
        self.tls = tls
        self.blackhole_new = False  # True: accept connections but pass nothing
        self.listener = socket.create_server(("127.0.0.1", port))
        self.port = self.listener.getsockname()[1]
        self.pairs: list[_Pair] = []
        self.accepted = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        """Close every proxied connection at once, both ways."""
        with self._lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            pair.close()

    def blackhole(self) -> None:
        """Keep every current connection open but drop all its traffic; new ones still pass."""
        with self._lock:
            for pair in self.pairs:
                pair.blackholed = True

    def close(self) -> None:
        self.listener.close()
        self.cut()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._open, args=(client,), daemon=True).start()

    def _open(self, client: socket.socket) -> None:
        try:
            if self.tls is not None:
                client = self.tls.wrap_socket(client, server_side=True)
            upstream = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        pair = _Pair(client, upstream)
        pair.blackholed = self.blackhole_new
        with self._lock:
            self.pairs.append(pair)
            self.accepted += 1
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(pair, source, sink), daemon=True).start()

    def _pump(self, pair: _Pair, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if not pair.blackholed:
                    sink.sendall(data)
        except OSError:
            pass
        if not pair.blackholed:
            pair.close()
