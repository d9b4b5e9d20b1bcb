"""SIGTERM while no broker answers: the daemon gives up its retries and exits at once."""

import signal

from daemons import consumer_config
from waiting import wait_for

DEAD_URL = "amqp://guest:guest@127.0.0.1:1/"


def test_sigterm_while_the_broker_is_unreachable_exits_at_once(daemon_factory):
    daemon = daemon_factory(consumer_config("jobs"), RABBITMQ_URL=DEAD_URL).start()
    wait_for(lambda: "retrying in" in daemon.log())
    assert daemon.stop(signal.SIGTERM) == 0  # the retries would go on forever
    assert len(daemon.records("shutdown")) == 1
