"""The daemon's side of the systemd notification protocol, against a real NOTIFY_SOCKET; the
units of example/systemd are checked in tests/unit/test_systemd.py."""

from __future__ import annotations

import signal

from daemons import consumer_config
from notifications import NotifySocket
from waiting import wait_for


def test_the_daemon_notifies_ready_watchdog_and_stopping(broker, daemon_factory, tmp_path):
    queue, go = broker.queue_name(), tmp_path / "go"
    with NotifySocket() as systemd:
        daemon = daemon_factory(
            consumer_config(queue), NOTIFY_SOCKET=systemd.name, WATCHDOG_USEC="100000"
        ).start()
        wait_for(lambda: _has(systemd, "READY=1"), what="READY=1")
        assert "ready: 1 consumer pool" in daemon.log()
        assert broker.consumers(queue) == 1
        ready = f"READY=1\nSTATUS=ready: 1 worker consuming\nMAINPID={daemon.process.pid}"
        assert ready in systemd.messages()
        _wait_for_pings(systemd, after="READY=1")

        broker.publish(queue, {"id": 1, "do": [["await-file", str(go)]]})
        wait_for(lambda: daemon.records("consume"), what="the message in flight")
        daemon.process.send_signal(signal.SIGTERM)
        wait_for(lambda: _has(systemd, "STOPPING=1"), what="STOPPING=1")
        _wait_for_pings(systemd, after="STOPPING=1")  # the loop runs on while consume finishes
        go.touch()
        assert daemon.process.wait(40) == 0
        assert [r["id"] for r in daemon.records("done")] == [1]


def test_a_reload_is_announced_and_ends_ready(broker, daemon_factory):
    queue = broker.queue_name()
    with NotifySocket() as systemd:
        daemon = daemon_factory(consumer_config(queue), NOTIFY_SOCKET=systemd.name).start()
        wait_for(lambda: _has(systemd, "READY=1"), what="READY=1")
        old = daemon.workers()[1]
        daemon.process.send_signal(signal.SIGHUP)
        wait_for(lambda: _has(systemd, "RELOADING=1"), what="RELOADING=1")
        wait_for(lambda: systemd.messages()[-1].startswith("READY=1"), what="READY=1 again")
        messages = systemd.messages()
        reloading = next(m for m in messages if "RELOADING=1" in m.split("\n"))
        assert "MONOTONIC_USEC=" in reloading
        assert sum("READY=1" in m.split("\n") for m in messages) == 2
        assert "reloaded: 1 worker on the new config" in daemon.log()
        assert daemon.workers()[1] != old
        assert all(f"MAINPID={daemon.process.pid}" in m for m in messages if "READY=1" in m)
        assert daemon.stop() == 0


def _has(systemd: NotifySocket, line: str) -> bool:
    return any(line in message.split("\n") for message in systemd.messages())


def _wait_for_pings(systemd: NotifySocket, after: str, count: int = 3) -> None:
    """Wait for `count` WATCHDOG=1 pings after the first message with the line `after`."""

    def pings() -> int:
        messages = systemd.messages()
        start = next(i for i, message in enumerate(messages) if after in message.split("\n"))
        return messages[start:].count("WATCHDOG=1")

    wait_for(lambda: pings() >= count, what=f"{count} watchdog pings after {after}")
