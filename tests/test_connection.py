"""The transport in-process, against the real broker: which hosts it tries and what it says."""

import dataclasses
import logging

import pytest
from brokers import BROKER, dead_target

from amqpdispatcher.transport import Refused, connect


def test_a_dead_host_is_logged_and_the_next_one_tried(caplog):
    first = dead_target()
    caplog.set_level(logging.WARNING, "amqp-dispatcher")
    connection = connect([first, BROKER], "test-connection")
    try:
        assert connection.target == BROKER
        assert f"cannot connect to {first}: Connection refused" in caplog.text
    finally:
        connection.close()
    assert connection.closed.get() is None  # closed by us, not lost


def test_wrong_credentials_are_refused_without_trying_other_hosts(caplog):
    wrong = dataclasses.replace(BROKER, password="s3cret")
    caplog.set_level(logging.DEBUG, "amqp-dispatcher")
    with pytest.raises(Refused) as refused:
        connect([wrong, dead_target()], "test-connection")
    assert "ACCESS_REFUSED" in str(refused.value)
    assert "s3cret" not in str(refused.value) + caplog.text
    assert "cannot connect" not in caplog.text  # the dead host was never tried


def test_a_missing_vhost_is_refused():
    target = dataclasses.replace(BROKER, vhost="no-such-vhost")
    with pytest.raises(Refused, match="NOT_ALLOWED - vhost no-such-vhost not found"):
        connect([target], "test-connection")


def test_channels_closed_by_the_client_report_no_broker_error():
    connection = connect([BROKER], "test-connection")
    try:
        closed_alone, closed_with_the_connection = connection.channel(), connection.channel()
        closed_alone.close()
    finally:
        connection.close()
    assert closed_alone.closed.get().code == 0
    assert closed_with_the_connection.closed.get().code == 0
