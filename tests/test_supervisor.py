"""example/supervisor/amqp-dispatcher.conf under a real supervisord: the daemon consumes,
`supervisorctl stop` stops it without losing a message, and `supervisorctl signal HUP` replaces
its workers."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from daemons import TESTS, consumer_config
from recipes import RECIPE_BINARY, RECIPE_CONFIG, SUPERVISOR_PROGRAM, supervisor_recipe
from waiting import wait_for


@contextlib.contextmanager
def supervised(directory: Path, daemon) -> Iterator[Path]:
    """A supervisord of the test's own running the recipe's program for `daemon`, until the
    daemon is ready under it; its config's path."""
    conf = _supervisord_conf(directory, daemon)
    supervisord = subprocess.Popen(
        [sys.executable, "-m", "supervisor.supervisord", "--nodaemon", "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: "workers consuming:" in daemon.log(), what="the daemon ready")
        wait_for(lambda: "RUNNING" in _supervisorctl(conf, "status", "amqp-dispatcher"))
        yield conf
    finally:
        supervisord.terminate()
        try:
            supervisord.wait(60)
        except subprocess.TimeoutExpired:
            supervisord.kill()
            supervisord.wait()


def test_supervisorctl_stop_loses_nothing(broker, daemon_factory, tmp_path):
    queue, go = broker.queue_name(), tmp_path / "go"
    daemon = daemon_factory(consumer_config(queue, count=3, prefetch=3))
    with supervised(tmp_path, daemon) as conf:
        broker.publish_many(queue, [{"id": n, "do": ["ack"]} for n in range(7)])
        broker.publish_many(queue, [{"id": n, "do": [["await-file", str(go)]]} for n in (7, 8, 9)])
        wait_for(lambda: len(daemon.records("done")) == 7, what="seven messages done")
        wait_for(lambda: len(daemon.records("consume")) == 10, what="three in flight")

        stop = subprocess.Popen(
            [*_supervisorctl_command(conf), "stop", "amqp-dispatcher"],
            stdout=subprocess.PIPE,
            text=True,
        )
        wait_for(lambda: "SIGTERM received; stopping" in daemon.log(), what="the SIGTERM")
        go.touch()  # the consume calls in flight finish within the grace period
        assert "amqp-dispatcher: stopped" in stop.communicate(timeout=60)[0]

        assert sorted(r["id"] for r in daemon.records("done")) == list(range(10))
        assert broker.messages(queue) == 0
        assert "STOPPED" in _supervisorctl(conf, "status", "amqp-dispatcher")
        assert daemon.log().rstrip().endswith("stopped")
        assert (
            "stopped: amqp-dispatcher (exit status 0)" in (tmp_path / "supervisord.log").read_text()
        )


def test_supervisorctl_signal_hup_rolls_the_workers(broker, daemon_factory, tmp_path):
    queue = broker.queue_name()
    daemon = daemon_factory(consumer_config(queue, count=3, prefetch=3))
    with supervised(tmp_path, daemon) as conf:
        before = daemon.workers()[1]
        signalled = _supervisorctl(conf, "signal", "HUP", "amqp-dispatcher")
        assert "amqp-dispatcher: signalled" in signalled
        wait_for(lambda: "reloaded: 1 worker on the new config" in daemon.log(), what="the roll")
        assert daemon.workers()[1] != before
        broker.publish_many(queue, [{"id": n, "do": ["ack"]} for n in range(5)])
        wait_for(lambda: len(daemon.records("done")) == 5, what="five messages done")
        assert "RUNNING" in _supervisorctl(conf, "status", "amqp-dispatcher")
        assert {r["pid"] for r in daemon.records("consume")} == {daemon.workers()[1]}
        assert "amqp-dispatcher: stopped" in _supervisorctl(conf, "stop", "amqp-dispatcher")
        supervisord_log = (tmp_path / "supervisord.log").read_text()
        assert "stopped: amqp-dispatcher (exit status 0)" in supervisord_log


def _supervisord_conf(directory: Path, daemon) -> Path:
    """A supervisord of the test's own, in `directory`, running the recipe's program with the
    test's venv, config, broker and scripted consumer; its path."""
    recipe = supervisor_recipe()
    program = recipe[SUPERVISOR_PROGRAM]
    program["command"] = (
        program["command"]
        .replace(RECIPE_BINARY, str(Path(sys.executable).parent / "amqp-dispatcher"))
        .replace(RECIPE_CONFIG, str(daemon.config_path))
    )
    program["directory"] = str(directory)
    del program["user"]  # the test's own user
    environment = {
        "RABBITMQ_URL": daemon.env["RABBITMQ_URL"],
        "PYTHONPATH": str(TESTS),
        "RECORD_FILE": str(daemon.record_path),
    }
    program["environment"] = ",".join(
        f'{name}="{_escaped(value)}"' for name, value in environment.items()
    )
    program["stdout_logfile"] = str(daemon.log_path)
    socket = directory / "supervisor.sock"
    recipe["unix_http_server"] = {"file": str(socket)}
    recipe["supervisord"] = {
        "logfile": str(directory / "supervisord.log"),
        "pidfile": str(directory / "supervisord.pid"),
        "childlogdir": str(directory),
    }
    recipe["rpcinterface:supervisor"] = {
        "supervisor.rpcinterface_factory": "supervisor.rpcinterface:make_main_rpcinterface"
    }
    recipe["supervisorctl"] = {"serverurl": f"unix://{socket}"}
    conf = directory / "supervisord.conf"
    with open(conf, "w") as out:
        recipe.write(out)
    return conf


def _escaped(value: str) -> str:
    """A value as supervisor reads it back: % is its own (%(here)s), so written %%."""
    return value.replace("%", "%%")


def _supervisorctl_command(conf: Path) -> list[str]:
    return [sys.executable, "-m", "supervisor.supervisorctl", "-c", str(conf)]


def _supervisorctl(conf: Path, *args: str) -> str:
    done = subprocess.run([*_supervisorctl_command(conf), *args], capture_output=True, text=True)
    return done.stdout + done.stderr
