"""Logging set-up, applied before anything logs, and the log formats."""

from __future__ import annotations

import json
import logging
import logging.config
import os
import sys
from datetime import datetime, timezone

import gevent

from . import identity
from .errors import ConfigurationError
from .middleware import logcontext

DEFAULT_FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"
MAX_TEXT = 64 * 1024  # characters of a record's message, and of its traceback, in a line

_stderr: logging.Handler | None = None  # the handler setup_logging installed, if it did


class LoggingSetupError(ConfigurationError):
    """LOGGING_FILE_CONFIG cannot be applied; the text names the setting and the file."""


class TextFormatter(logging.Formatter):
    """A record as text, its message, traceback and stack each cut to MAX_TEXT characters: a
    consumer's exception with megabytes of message makes a line of at most a few hundred KB.
    In a worker the message starts with 'worker=N pid=P: '."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = bounded(record.message)
        worker = identity.label()
        if worker:
            record.message = f"{worker}: {record.message}"
        return super().formatMessage(record)

    def formatException(self, ei) -> str:
        return bounded(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return bounded(super().formatStack(stack_info))


def bounded(text: str) -> str:
    """`text`, cut to MAX_TEXT characters, saying so."""
    if len(text) <= MAX_TEXT:
        return text
    return f"{text[:MAX_TEXT]}... [cut: {len(text):,} characters in all]"


class JsonFormatter(TextFormatter):
    """A record as one JSON object on one line: time (ISO 8601, UTC), level, logger, message,
    the worker's number and pid in a worker, the consume context when the record is logged
    inside a consume call (logcontext), and exc_info and stack_info, formatted, when the record
    has them; each text cut as TextFormatter cuts it."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": _iso_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": bounded(record.getMessage()),
        }
        if identity.worker() is not None:
            line.update(worker=identity.worker(), pid=record.process)
        line.update(logcontext.fields())
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        # ASCII: a lone surrogate in a message cannot break the line when stderr encodes it.
        return json.dumps(line, default=repr)


def setup_logging(file_config: str | None) -> None:
    """Apply `file_config` (LOGGING_FILE_CONFIG) with logging.config.fileConfig, or log INFO
    and above to stderr, as text until use_format says otherwise. By default pika's own
    records are silenced: the daemon reports connection and channel failures itself, one line
    each, where pika would log several. Either way gevent's reports of greenlets that died of
    an exception (say one a consumer spawned) become records of the `amqp-dispatcher` logger,
    instead of raw text on stderr."""
    global _stderr
    if not file_config:
        root = logging.getLogger()
        if not root.handlers:  # as logging.basicConfig: a caller's own handlers stay
            _stderr = logging.StreamHandler(sys.stderr)
            _stderr.setFormatter(TextFormatter(DEFAULT_FORMAT))
            root.addHandler(_stderr)
            root.setLevel(logging.INFO)
        logging.getLogger("pika").setLevel(logging.CRITICAL)
    elif not os.path.isfile(file_config):
        raise LoggingSetupError(f"LOGGING_FILE_CONFIG: no such file: {file_config}")
    else:
        try:
            logging.config.fileConfig(file_config, disable_existing_loggers=False)
        except Exception as exc:
            raise LoggingSetupError(f"LOGGING_FILE_CONFIG: {file_config}: {exc!r}") from None
    gevent.get_hub().print_exception = _log_greenlet_error


def use_format(log_format: str) -> None:
    """Format the lines of the stderr handler setup_logging installed as `log_format`, "text"
    or "json". Without that handler (LOGGING_FILE_CONFIG is set), nothing changes: the file
    has the last word on formats."""
    if _stderr is not None:
        json_lines = log_format == "json"
        _stderr.setFormatter(JsonFormatter() if json_lines else TextFormatter(DEFAULT_FORMAT))


def _iso_time(created: float) -> str:
    moment = datetime.fromtimestamp(created, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _log_greenlet_error(context: object, kind: type, value: BaseException | None, tb) -> None:
    """Stands in for gevent's Hub.print_exception, with its signature; it must not raise."""
    logging.getLogger("amqp-dispatcher").error(
        "%r failed with %s", context, kind.__name__, exc_info=(kind, value, tb)
    )
