"""The RabbitMQ nodes the tests talk to: the shared broker at RABBITMQ_URL, which may serve other
applications and may be any node, reached over AMQP alone; and throwaway nodes that the tests
start themselves for anything that needs `rabbitmqctl` (listing or closing connections, reading
queue arguments) or acts on a whole broker (closing every connection, stopping the app)."""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

BOOT_TIMEOUT = 120  # seconds; a boot takes a few
STOP_TIMEOUT = 120

# Stops the node and removes its directory once its stdin closes: when the test process closes
# it, and also when the test process dies without a word, so that no node outlives a run.
GUARD = 'read -r _; rabbitmqctl -q -n "$0" stop "$1" >/dev/null 2>&1; rm -rf "$2"'


def free_ports(count: int = 1) -> list[int]:
    """`count` distinct loopback ports with nothing listening on them."""
    with contextlib.ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]


def free_port() -> int:
    return free_ports()[0]


class Node:
    """A node as the tests reach it: by its AMQP URL alone. The shared broker is only this:
    whatever tells a test about it goes over AMQP, so the tests need nothing but RABBITMQ_URL,
    whichever node and machine that names."""

    def __init__(self, url: str) -> None:
        self.url = url


class ThrowawayNode(Node):
    """A RabbitMQ node of the tests' own: its own name, ports and directory (data, logs, pid
    file, config naming its AMQP port, the `plugins` enabled, none by default, so no management
    or prometheus port unless asked for with theirs in `settings`). Used
    as a context manager: started, then stopped and its directory removed. Being the tests'
    own, it is also the node they run `rabbitmqctl` against: to list or close connections, to
    read its queues and exchanges, to change its settings, to stop it."""

    def __init__(
        self,
        name: str,
        amqp_port: int,
        dist_port: int,
        directory: Path,
        settings: tuple[str, ...] = (),
        plugins: tuple[str, ...] = (),
    ) -> None:
        super().__init__(f"amqp://guest:guest@127.0.0.1:{amqp_port}/")
        self.name = f"{name}@localhost"
        self.amqp_port = amqp_port
        self.dist_port = dist_port
        self.directory = directory
        self.settings = settings  # lines of rabbitmq.conf beside the listener
        self.plugins = plugins
        self.pid_file = directory / "pid"
        self.server_log = directory / "server.log"
        self._server: subprocess.Popen | None = None
        self._guard: subprocess.Popen | None = None

    @classmethod
    def fresh(
        cls,
        label: str = "amqp-dispatcher-test",
        settings: tuple[str, ...] = (),
        plugins: tuple[str, ...] = (),
    ) -> ThrowawayNode:
        """A node sharing nothing with any other, a leftover of a crashed run included: a name
        made of this process's pid and a random part, probed free ports, a new directory."""
        remove_leftovers(label)
        name = f"{label}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        amqp_port, dist_port = free_ports(2)
        directory = Path(tempfile.mkdtemp(prefix=f"{name}-"))
        return cls(name, amqp_port, dist_port, directory, settings, plugins)

    def __enter__(self) -> ThrowawayNode:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> ThrowawayNode:
        """Set the node up and boot it; returns once its app runs. Whatever happens to the
        test process, the guard stops the node and removes its directory at its end."""
        listener = f"listeners.tcp.local = 127.0.0.1:{self.amqp_port}"
        (self.directory / "rabbitmq.conf").write_text("\n".join((listener, *self.settings, "")))
        (self.directory / "enabled_plugins").write_text(f"[{','.join(self.plugins)}].\n")
        _hand_to_the_rabbitmq_user(self.directory)
        self._guard = subprocess.Popen(
            ["sh", "-c", GUARD, self.name, str(self.pid_file), str(self.directory)],
            stdin=subprocess.PIPE,
            start_new_session=True,
        )
        return self.boot()

    def boot(self) -> ThrowawayNode:
        """Boot the node, set up by start(); returns once its app runs (`rabbitmqctl wait` on
        its pid file). Again after shut_down() or kill(), on the same data."""
        with open(self.server_log, "ab") as log:
            self._server = subprocess.Popen(
                ["rabbitmq-server"],
                env=self._environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C of the tests leaves the stop to stop()
            )
        try:
            self.rabbitmqctl("wait", str(self.pid_file), "--timeout", str(BOOT_TIMEOUT))
        except subprocess.CalledProcessError as exc:
            output = self.server_log.read_text(errors="replace")
            self.stop()
            raise RuntimeError(
                f"node {self.name} did not start: {exc.stderr}{output[-3000:]}"
            ) from None
        return self

    def stop(self) -> None:
        """Stop the node (`rabbitmqctl stop` waits for its pid) and remove its directory."""
        self._guard.stdin.close()
        self._guard.wait(STOP_TIMEOUT)
        self._server.wait(STOP_TIMEOUT)

    def shut_down(self) -> None:
        """Stop the node as an operator would (`rabbitmqctl stop`), keeping its data for boot()."""
        self.rabbitmqctl("stop", str(self.pid_file))
        self._server.wait(STOP_TIMEOUT)

    def kill(self) -> None:
        """SIGKILL the node's Erlang VM, as a crash would; its data stays for boot()."""
        self.send_signal(signal.SIGKILL)
        self._server.wait(STOP_TIMEOUT)

    def send_signal(self, signum: int) -> None:
        """Send `signum` to the node's Erlang VM."""
        os.kill(int(self.pid_file.read_text()), signum)

    def rabbitmqctl(self, *args: str) -> str:
        command = ["rabbitmqctl", "-q", "-n", self.name, *args]
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout

    def connection_pids(self, name: str) -> list[str]:
        """The node's pids of the connections whose connection_name is `name`."""
        lines = self.rabbitmqctl(
            "list_connections", "--no-table-headers", "pid", "client_properties"
        )
        return [line.split("\t")[0] for line in lines.splitlines() if f'"{name}"' in line]

    def close_connection(self, name: str) -> None:
        """Have the node close the connections named `name`, as an operator would."""
        pids = self.connection_pids(name)
        assert pids, f"no connection named {name}"
        for pid in pids:
            self.rabbitmqctl("close_connection", pid, "test: closed by operator")

    def close_all_connections(self, reason: str) -> None:
        self.rabbitmqctl("close_all_connections", reason)

    @contextlib.contextmanager
    def app_stopped(self) -> Iterator[None]:
        """The node's RabbitMQ application stopped (every connection closed, nothing listening
        on its AMQP port) for the block; started again and awaited however the block ends."""
        self.rabbitmqctl("stop_app")
        try:
            yield
        finally:
            self.rabbitmqctl("start_app")
            self.rabbitmqctl("await_startup")

    def _environment(self) -> dict[str, str]:
        directory = self.directory
        return {
            **os.environ,
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            # the system's rabbitmq.conf may pin the AMQP port and outranks RABBITMQ_NODE_PORT
            "RABBITMQ_CONFIG_FILE": str(directory / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(directory / "advanced.config"),  # none
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(directory / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(directory / "mnesia"),
            "RABBITMQ_LOG_BASE": str(directory / "log"),
            "RABBITMQ_PID_FILE": str(self.pid_file),
        }


def remove_leftovers(label: str) -> None:
    """Stop the nodes named `label` of test processes that are gone, and remove their
    directories: what a run killed with its guards leaves. Once per label and process."""
    if label in _CLEARED:
        return
    _CLEARED.add(label)
    leftover = re.compile(rf"{re.escape(label)}-(\d+)-[0-9a-f]{{8}}")
    for directory in Path(tempfile.gettempdir()).glob(f"{label}-*"):
        match = leftover.match(directory.name)
        if match and not alive(int(match.group(1))):
            name = f"{match.group(0)}@localhost"
            subprocess.run(["rabbitmqctl", "-q", "-n", name, "stop"], capture_output=True)
            shutil.rmtree(directory, ignore_errors=True)


_CLEARED: set[str] = set()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _hand_to_the_rabbitmq_user(directory: Path) -> None:
    """Run as root, rabbitmq-server drops to the rabbitmq user, who must own its directory.
    rabbitmqctl drops too, and so shares that user's Erlang cookie with the node."""
    if os.geteuid() != 0:
        return
    try:
        user = pwd.getpwnam("rabbitmq")
    except KeyError:
        return
    for path in (directory, *directory.iterdir()):
        os.chown(path, user.pw_uid, user.pw_gid)
