"""docs/tutorial.rst, done as a reader would do it, on the session's throwaway node: each code
block is a file to save or commands to run, and the output it shows must come out. A block of
any other kind fails the test, so that no block of the page goes untried."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
from rst import indented, shows
from waiting import wait_for

ROOT = Path(__file__).parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.rst"
DIRECTIVE = re.compile(r"^\.\. code-block:: (\w+)$")
FILE_NAME = re.compile(r"``([\w.-]+)``:$")
DAEMON = "amqp-dispatcher --config"


class Block(NamedTuple):
    language: str
    lines: list[str]
    file_name: str | None  # for a file to save: the page names it at the end of the line before


def blocks(text: str) -> list[Block]:
    lines = text.splitlines()
    found = []
    for index, line in enumerate(lines):
        if line.endswith("::") and not line.startswith(".."):
            pytest.fail(f"line {index + 1}: a literal block the test cannot tell how to run")
        match = DIRECTIVE.match(line)
        if not match:
            continue
        before = next(line for line in reversed(lines[:index]) if line.strip())
        name = FILE_NAME.search(before)
        found.append(Block(match[1], indented(lines[index + 1 :]), name and name[1]))
    return found


def commands(block: Block) -> list[tuple[str, list[str]]]:
    """Each `$ command` of a console block with the output lines shown under it."""
    runs: list[tuple[str, list[str]]] = []
    for line in block.lines:
        if line.startswith("$ "):
            runs.append((line[2:], []))
        else:
            runs[-1][1].append(line)
    return runs


class Reader:
    """Does what the page says, in a directory of its own, with the venv's commands on PATH."""

    def __init__(self, directory: Path, node) -> None:
        self.directory = directory
        self.node = node
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("CURRENCY", "ORDER_PRICERS")},
            "RABBITMQ_URL": node.url,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        self.daemon: subprocess.Popen | None = None
        self.daemon_log = directory / "daemon.log"

    def follow(self, block: Block) -> None:
        if block.file_name:
            (self.directory / block.file_name).write_text("\n".join(block.lines) + "\n")
        elif block.language == "console":
            for command, expected in commands(block):
                self.run(command, expected)
        elif block.language == "text":  # what the daemon logs
            self.await_log(block.lines)
        else:
            pytest.fail(f"a {block.language} block that is neither a file nor commands")

    def run(self, command: str, expected: list[str]) -> None:
        if command.startswith(DAEMON):
            self.start_daemon(command)
            self.await_log(expected)
            return
        argv = shlex.split(command)
        if argv[0] == "rabbitmqctl":  # of the page's node, whatever rabbitmqctl's default
            argv[1:1] = ["-n", self.node.name]

        def ran() -> subprocess.CompletedProcess:
            result = subprocess.run(
                argv, cwd=self.directory, env=self.env, capture_output=True, text=True
            )
            assert result.returncode == 0, f"{command}:\n{result.stdout}{result.stderr}"
            return result

        # Output that tells a state, such as queue lengths, is waited for; a command showing
        # none is run once.
        wait_for(
            lambda: shows(ran().stdout, expected) if expected else ran(),
            what=f"the output of {command!r} as the page shows it",
        )

    def start_daemon(self, command: str) -> None:
        with open(self.daemon_log, "wb") as log:
            self.daemon = subprocess.Popen(
                shlex.split(command),
                cwd=self.directory,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def await_log(self, expected: list[str]) -> None:
        wait_for(
            lambda: shows(self.daemon_log.read_text(), expected) or self.daemon.poll() is not None,
            what="the daemon's log as the page shows it",
        )
        assert self.daemon.poll() is None, self.daemon_log.read_text()

    def stop_daemon(self) -> int:
        """Ctrl-C, as the page says."""
        self.daemon.send_signal(signal.SIGINT)
        return self.daemon.wait(60)


@pytest.fixture
def tutorial_names(node_broker):
    node_broker.queues += ["orders.new", "orders.priced", "orders.new.archive"]
    node_broker.queues += [f"orders.new.delay.{seconds}s" for seconds in (1, 10, 60)]
    node_broker.exchanges.append("orders")


def test_the_tutorial_works_as_written(node, tutorial_names, tmp_path):
    reader = Reader(tmp_path, node)
    page = blocks(TUTORIAL.read_text())
    try:
        for block in page:
            reader.follow(block)
        assert reader.stop_daemon() == 0
    finally:
        if reader.daemon is not None:
            reader.daemon.kill()
    assert "INFO [amqp-dispatcher] stopped" in reader.daemon_log.read_text()
    files = {block.file_name for block in page if block.file_name}
    assert files == {"orders.py", "orders.yml", "test_orders.py", "send.py"}
