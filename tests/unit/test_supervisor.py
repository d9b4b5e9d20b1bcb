"""example/supervisor/amqp-dispatcher.conf: the program restarted only on a failure, and its stop
waited for."""

from __future__ import annotations

from recipes import SUPERVISOR_PROGRAM, shutdown_timeout, supervisor_recipe

from amqpdispatcher.daemon import SHUTDOWN_CALLS_TIMEOUT


def test_the_program_is_restarted_only_on_a_failure_and_waited_for():
    program = supervisor_recipe()[SUPERVISOR_PROGRAM]
    assert program["autorestart"] == "unexpected" and program["exitcodes"] == "0,78"
    assert program["stopsignal"] == "TERM" and program["killasgroup"] == "true"
    grace = shutdown_timeout(program["command"])
    assert float(program["stopwaitsecs"]) > grace + SHUTDOWN_CALLS_TIMEOUT
