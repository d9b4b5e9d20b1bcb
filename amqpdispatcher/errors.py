"""The errors that stop the daemon, each with the exit status the command line returns for it.

Distinct statuses let a supervisor stop restarting on what no restart can mend: systemd's
`RestartPreventExitStatus=78`, for instance."""

from __future__ import annotations

import logging

log = logging.getLogger("amqp-dispatcher")

EXIT_FAILURE = 1
EXIT_RESTART = 75  # EX_TEMPFAIL: a worker's failure that a new start may mend (arbiter.py)
EXIT_CONFIG = 78  # EX_CONFIG of sysexits.h


class DispatcherError(Exception):
    """The daemon's own errors, as against a bug: the text, one line per problem, is for the
    operator. Where one reaches the command line it stops the daemon with its exit status; the
    transient ones (a lost connection, a publish the broker did not confirm: AMQPError and its
    subclasses) are also retried by the daemon, or raised into consumer code that published."""

    exit_status = EXIT_FAILURE
    names_yaml_paths = False  # the text names YAML paths, so the config file's path goes first


class ConfigurationError(DispatcherError):
    """The operator's configuration is at fault (the YAML, the environment, the code the YAML
    names): restarting cannot mend it."""

    exit_status = EXIT_CONFIG


class MayPassError(DispatcherError):
    """What a new start may mend: the worker exits EXIT_RESTART and the arbiter starts it again,
    a bounded number of times, before the daemon stops with EXIT_FAILURE."""

    exit_status = EXIT_RESTART


class BrokerRefusal(DispatcherError):
    """The broker refused part of the configuration: a declaration, or consuming a queue. Fatal
    at the first start, where the YAML must be at fault; after a reconnection, retried.
    `where` names the YAML path, `reply` is the broker's."""

    names_yaml_paths = True

    def __init__(self, where: str, reply: str) -> None:
        super().__init__(f"{where}: {reply}")
        self.reply = reply


def report(error: DispatcherError, source: str) -> int:
    """Log `error` for the operator, a record per line, each with the config file's path where
    it names YAML paths; returns its exit status."""
    for line in str(error).splitlines():
        log.error("%s%s", f"{source}: " if error.names_yaml_paths else "", line)
    return error.exit_status
