"""The systemd notification protocol against a real datagram socket, without a daemon."""

from __future__ import annotations

import os
import time
import uuid

import gevent
import pytest
from notifications import NotifySocket
from waiting import wait_for

from amqpdispatcher import notify


@pytest.fixture
def systemd(monkeypatch):
    with NotifySocket() as sock:
        monkeypatch.setenv("NOTIFY_SOCKET", sock.name)
        monkeypatch.delenv("WATCHDOG_USEC", raising=False)
        monkeypatch.delenv("WATCHDOG_PID", raising=False)
        yield sock


def test_ready_status_and_stopping_each_go_in_one_datagram(systemd):
    notify.ready("ready: 2 consumer pools")
    notify.status("reconnecting")
    notify.stopping()
    assert systemd.messages() == [
        "READY=1\nSTATUS=ready: 2 consumer pools",
        "STATUS=reconnecting",
        "STOPPING=1\nSTATUS=stopping",
    ]


def test_an_abstract_socket_name_starts_with_an_at_sign(monkeypatch):
    with NotifySocket(abstract=f"amqp-dispatcher-test-{uuid.uuid4().hex}") as sock:
        monkeypatch.setenv("NOTIFY_SOCKET", sock.name)
        notify.ready("ready")
        assert sock.messages() == ["READY=1\nSTATUS=ready"]


def test_without_notify_socket_nothing_is_sent(monkeypatch):
    def no_socket(*args):
        raise AssertionError("a socket was opened")

    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.setenv("WATCHDOG_USEC", "20000")
    monkeypatch.setattr(notify.socket, "socket", no_socket)
    monkeypatch.setattr(notify.gevent, "spawn", no_socket)
    notify.ready("ready")
    notify.stopping()
    notify.start_watchdog()()


def test_a_socket_that_cannot_be_reached_is_logged_not_raised(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone.sock"))
    notify.ready("ready")
    assert f"cannot notify systemd at NOTIFY_SOCKET={tmp_path / 'gone.sock'}" in caplog.text


def test_the_watchdog_is_pinged_from_the_event_loop(systemd, monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "20000")
    stop = notify.start_watchdog()
    try:
        _wait_for_pings(systemd, 3)
        systemd.received.clear()
        time.sleep(0.2)  # the loop blocked: the point of the watchdog is that the pings stop
        assert systemd.messages() == []
        _wait_for_pings(systemd, 1)  # and come back once it runs again
    finally:
        stop()


@pytest.mark.parametrize("ours", [True, False])
def test_the_watchdog_is_pinged_only_for_its_own_pid(systemd, monkeypatch, ours):
    monkeypatch.setenv("WATCHDOG_USEC", "60000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() if ours else os.getpid() + 1))
    stop = notify.start_watchdog()
    gevent.idle()  # whatever was spawned has run up to its first sleep
    stop()
    assert systemd.messages() == (["WATCHDOG=1"] if ours else [])


def test_a_malformed_watchdog_usec_is_warned_of(systemd, monkeypatch, caplog):
    monkeypatch.setenv("WATCHDOG_USEC", "30s")
    stop = notify.start_watchdog()
    gevent.idle()
    stop()
    assert systemd.messages() == []
    assert "WATCHDOG_USEC=30s: not a whole number of microseconds; no watchdog pings" in caplog.text


def _wait_for_pings(systemd: NotifySocket, count: int) -> None:
    wait_for(lambda: systemd.messages().count("WATCHDOG=1") >= count, what=f"{count} pings")
