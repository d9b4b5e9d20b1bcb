"""The systemd units of example/systemd, checked by systemd-analyze, and the daemon's side of
the notification protocol, against a real NOTIFY_SOCKET."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from daemons import consumer_config
from notifications import NotifySocket
from recipes import RECIPE_BINARY, SYSTEMD, shutdown_timeout, unit_settings
from waiting import wait_for

from amqpdispatcher.daemon import SHUTDOWN_CALLS_TIMEOUT

UNITS = ["amqp-dispatcher.service", "amqp-dispatcher@.service"]
BINARY = Path(sys.executable).parent / "amqp-dispatcher"


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (Debian package systemd)",
)
@pytest.mark.parametrize("unit", UNITS)
def test_systemd_analyze_verifies_the_units(tmp_path, unit):
    # verify wants ExecStart's binary to exist: the venv's stands in for /srv/app's.
    (tmp_path / unit).write_text((SYSTEMD / unit).read_text().replace(RECIPE_BINARY, str(BINARY)))
    name = unit.replace("@.", "@orders.")  # a template is verified as one of its instances
    verify = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / name)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    # A unit with a mistake (an unknown key, a bad value) is verified with warnings, status 0.
    assert (verify.returncode, verify.stdout + verify.stderr) == (0, "")


@pytest.mark.parametrize("unit", UNITS)
def test_the_units_notify_and_wait_out_the_stop(unit):
    settings = unit_settings(SYSTEMD / unit)
    assert RECIPE_BINARY in settings["ExecStart"]
    assert settings["Type"] == "notify" and settings["NotifyAccess"] == "main"
    assert settings["KillSignal"] == "SIGTERM"
    assert settings["Restart"] == "on-failure" and settings["RestartPreventExitStatus"] == "78"
    grace = shutdown_timeout(settings["ExecStart"])
    assert float(settings["TimeoutStopSec"]) > grace + SHUTDOWN_CALLS_TIMEOUT


def test_the_daemon_notifies_ready_watchdog_and_stopping(broker, daemon_factory, tmp_path):
    queue, go = broker.queue_name(), tmp_path / "go"
    with NotifySocket() as systemd:
        daemon = daemon_factory(
            consumer_config(queue), NOTIFY_SOCKET=systemd.name, WATCHDOG_USEC="100000"
        ).start()
        wait_for(lambda: _has(systemd, "READY=1"), what="READY=1")
        assert "ready: 1 consumer pool" in daemon.log()
        assert broker.consumers(queue) == 1
        assert "READY=1\nSTATUS=ready: 1 consumer pool" in systemd.messages()
        _wait_for_pings(systemd, after="READY=1")

        broker.publish(queue, {"id": 1, "do": [["await-file", str(go)]]})
        wait_for(lambda: daemon.records("consume"), what="the message in flight")
        daemon.process.send_signal(signal.SIGTERM)
        wait_for(lambda: _has(systemd, "STOPPING=1"), what="STOPPING=1")
        _wait_for_pings(systemd, after="STOPPING=1")  # the loop runs on while consume finishes
        go.touch()
        assert daemon.process.wait(40) == 0
        assert [r["id"] for r in daemon.records("done")] == [1]


def _has(systemd: NotifySocket, line: str) -> bool:
    return any(line in message.split("\n") for message in systemd.messages())


def _wait_for_pings(systemd: NotifySocket, after: str, count: int = 3) -> None:
    """Wait for `count` WATCHDOG=1 pings after the first message with the line `after`."""

    def pings() -> int:
        messages = systemd.messages()
        start = next(i for i, message in enumerate(messages) if after in message.split("\n"))
        return messages[start:].count("WATCHDOG=1")

    wait_for(lambda: pings() >= count, what=f"{count} watchdog pings after {after}")
