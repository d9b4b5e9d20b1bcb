"""The README's minimal consumer, done as a reader would do it, on the session's throwaway node:
its files saved, the daemon run on them, and the one-line publish sent through RABBITMQ_URL."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from rst import indented, shows
from waiting import wait_for

README = Path(__file__).parent.parent / "README.rst"


def literal_block(text: str, introduced_by: str) -> list[str]:
    """The lines of the literal block whose introducing paragraph (ending in "::") is the first
    to contain `introduced_by`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if introduced_by in line)
    while not lines[start].endswith("::"):
        start += 1
    return indented(lines[start + 1 :])


def test_the_minimal_consumer_greets_the_one_line_publish(node, node_broker, tmp_path):
    text = README.read_text()
    (tmp_path / "greeter.py").write_text("\n".join(literal_block(text, "``greeter.py``")) + "\n")
    (tmp_path / "config.yml").write_text("\n".join(literal_block(text, "``config.yml``")) + "\n")
    (publish,) = literal_block(text, "A message published to the queue")
    node_broker.queues.append("greetings")
    env = {
        **os.environ,
        "RABBITMQ_URL": node.url,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    log = tmp_path / "daemon.log"
    with open(log, "wb") as output:
        daemon = subprocess.Popen(
            ["amqp-dispatcher", "--config", "config.yml"],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: "ready:" in log.read_text(), what="the daemon ready")
        sent = subprocess.run(
            shlex.split(publish), cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert sent.returncode == 0, sent.stderr
        greeting = "... INFO [greeter] worker=1 pid=...: hello, world"
        wait_for(lambda: shows(log.read_text(), [greeting]), what="the greeting")
        daemon.terminate()
        assert daemon.wait(40) == 0
    finally:
        daemon.kill()
        daemon.wait()
    assert node_broker.messages("greetings") == 0
