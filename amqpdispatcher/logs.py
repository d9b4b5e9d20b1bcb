"""Logging set-up, applied before anything logs."""

from __future__ import annotations

import logging
import logging.config
import os
import sys

import gevent

from .errors import ConfigurationError

DEFAULT_FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"


class LoggingSetupError(ConfigurationError):
    """LOGGING_FILE_CONFIG cannot be applied; the text names the setting and the file."""


def setup_logging(file_config: str | None) -> None:
    """Apply `file_config` (LOGGING_FILE_CONFIG) with logging.config.fileConfig, or log INFO
    and above to stderr. By default pika's own records are silenced: the daemon reports
    connection and channel failures itself, one line each, where pika would log several.
    Either way gevent's reports of greenlets that died of an exception (say one a consumer
    spawned) become records of the `amqp-dispatcher` logger, instead of raw text on stderr."""
    if not file_config:
        logging.basicConfig(level=logging.INFO, format=DEFAULT_FORMAT, stream=sys.stderr)
        logging.getLogger("pika").setLevel(logging.CRITICAL)
    elif not os.path.isfile(file_config):
        raise LoggingSetupError(f"LOGGING_FILE_CONFIG: no such file: {file_config}")
    else:
        try:
            logging.config.fileConfig(file_config, disable_existing_loggers=False)
        except Exception as exc:
            raise LoggingSetupError(f"LOGGING_FILE_CONFIG: {file_config}: {exc!r}") from None
    gevent.get_hub().print_exception = _log_greenlet_error


def _log_greenlet_error(context: object, kind: type, value: BaseException | None, tb) -> None:
    """Stands in for gevent's Hub.print_exception, with its signature; it must not raise."""
    logging.getLogger("amqp-dispatcher").error(
        "%r failed with %s", context, kind.__name__, exc_info=(kind, value, tb)
    )
