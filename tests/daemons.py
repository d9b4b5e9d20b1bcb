"""The daemon run as a subprocess through its real command line, and the config of one queue
with the scripted consumer on it."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
from pathlib import Path

import yaml
from brokers import SHARED
from nodes import Node
from waiting import wait_for

TESTS = Path(__file__).parent
WORKER = r"worker=\d+ pid=\d+: "  # how a worker's log lines start, after the logger's name


def worker_label(daemon: Daemon, number: int = 1) -> str:
    """What the log lines of the daemon's worker `number` start with."""
    return f"worker={number} pid={daemon.workers()[number]}"


class Daemon:
    """`amqp-dispatcher` run as a subprocess on `node`, its log in a file and its consumers'
    records in another (see scripted.py)."""

    def __init__(
        self, directory: Path, config: dict | str, env: dict[str, str], node: Node = SHARED
    ) -> None:
        self.node = node
        self.config_path = directory / "config.yml"
        text = config if isinstance(config, str) else yaml.safe_dump(config, sort_keys=False)
        self.config_path.write_text(text)
        self.log_path = directory / "daemon.log"
        self.record_path = directory / "records.jsonl"
        self.env = {
            **os.environ,
            "RABBITMQ_URL": node.url,
            "PYTHONPATH": str(TESTS),
            "RECORD_FILE": str(self.record_path),
            **env,
        }
        self.process: subprocess.Popen | None = None

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "amqpdispatcher", "--config", str(self.config_path), *args]

    def start(self, *args: str, max_files: int | None = None) -> Daemon:
        """Start the daemon, with at most `max_files` file descriptors if given."""
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command(*args),
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                preexec_fn=lambda: _prepare_child(max_files),
                start_new_session=True,  # a process group of its own, its workers in it: kill()
            )
        return self

    def run(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        """Run to completion (for runs expected to exit by themselves); stdout has stderr too."""
        return subprocess.run(
            self.command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
            timeout=timeout,
        )

    def wait_ready(self, timeout: float = 20.0) -> Daemon:
        ready = "workers consuming:"  # the arbiter's, once every worker consumes
        wait_for(lambda: ready in self.log() or self.process.poll() is not None, timeout)
        assert self.process.poll() is None, f"daemon exited early:\n{self.log()}"
        return self

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 40.0) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def workers(self) -> dict[int, int]:
        """The pid of each worker the arbiter started last, by worker number, from its log."""
        started = re.findall(r"worker (\d+) started: pid (\d+)", self.log())
        return {int(number): int(pid) for number, pid in started}

    def records(self, event: str | None = None) -> list[dict]:
        if not self.record_path.exists():
            return []
        # Only whole lines: the daemon may be halfway through appending the last one.
        lines = self.record_path.read_text().split("\n")[:-1]
        records = [json.loads(line) for line in lines]
        return [r for r in records if event is None or r["event"] == event]

    def kill(self) -> None:
        """SIGKILL to the arbiter and its workers at once: a worker that outlived its arbiter
        would declare its queue again once the test's cleanup has deleted it."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _prepare_child(max_files: int | None) -> None:
    """SIGINT as a terminal leaves it, for the tests that send it: a shell starts a background
    job, and so the tests run in one, with SIGINT ignored, which its children would inherit.
    And the soft limit on file descriptors lowered to `max_files`, if given."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if max_files is not None:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max_files, hard))


def consumer_config(queue: str, count: int = 1, prefetch: int = 1, **queue_keys) -> dict:
    """A config with one queue and the Scripted consumer on it."""
    return {
        "queues": [{"queue": queue, "durable": False, **queue_keys}],
        "consumers": [
            {
                "consumer": "scripted:Scripted",
                "queue": queue,
                "consumer_count": count,
                "prefetch_count": prefetch,
            }
        ],
    }


def with_middleware(config: dict, *classes: str) -> dict:
    return {"middleware": list(classes), **config}


def daemon_connection(daemon) -> tuple[str, int]:
    """The connection_name and heartbeat timeout of the connection of the daemon's worker 1, as
    its node lists them (a throwaway node: rabbitmqctl reaches no other); found by the worker's
    pid inside its HOSTNAME-PID-w1-RANDOM connection_name."""
    pid = wait_for(lambda: daemon.workers().get(1), what="worker 1")
    pattern = re.compile(rf'"connection_name","([^"]*-{pid}-w1-[0-9a-f]{{8}})"')

    def find():
        columns = ("--no-table-headers", "timeout", "client_properties")
        for line in daemon.node.rabbitmqctl("list_connections", *columns).splitlines():
            timeout, _, properties = line.partition("\t")
            match = pattern.search(properties)
            if match:
                return match.group(1), int(timeout)
        return None

    return wait_for(find, what="the daemon's connection")


def publishing_connection(daemon) -> str:
    """The connection_name of the connection worker 1 publishes on (its consumers' messages and
    the retry policy's copies), opened at its first publish."""
    return f"{daemon_connection(daemon)[0]}-publisher"
