"""A run killed with its guards (its whole process group SIGKILLed) leaves its throwaway nodes
running: the next run's first node of the same label stops them and removes their directories,
and leaves alone the nodes of runs still going."""

import os
import signal
import subprocess
import tempfile
import uuid
from pathlib import Path

import nodes
from nodes import ThrowawayNode, free_ports

LABEL = "amqp-dispatcher-leftover"


def a_dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def node_of(pid: int) -> ThrowawayNode:
    name = f"{LABEL}-{pid}-{uuid.uuid4().hex[:8]}"
    return ThrowawayNode(name, *free_ports(2), Path(tempfile.mkdtemp(prefix=f"{name}-")))


def test_the_nodes_of_a_dead_run_are_stopped_and_removed():
    leftover, alive = node_of(a_dead_pid()).start(), node_of(os.getpid()).start()
    leftover._guard.send_signal(signal.SIGKILL)  # as when the whole run is killed
    leftover._guard.wait()
    vm = int(leftover.pid_file.read_text())
    try:
        nodes.remove_leftovers(LABEL)

        leftover._server.wait(nodes.STOP_TIMEOUT)
        assert not Path(f"/proc/{vm}").exists()
        assert not leftover.directory.exists()
        assert "true" in alive.rabbitmqctl("eval", "rabbit:is_running().")
        assert alive.directory.exists()
    finally:
        alive.stop()
