"""Load and check the YAML config; every problem is collected so all can be fixed at once.
document.py reads the whole file, yamlfile.py the YAML itself, checks.py holds the checks the
sections are built of, and each section has a module of its own: exchanges, queues, bindings,
consumers, retry (and the queues it derives, retry_queues), http, middleware, processes."""

from ..limits import MAX_PORT
from ..limits import MAX_SHORTSTR as MAX_NAME_BYTES
from ..retry.queues import default_archive_queue
from .bindings import BindingSpec
from .consumers import (
    MAX_CONSUMER_COUNT,
    MAX_PREFETCH_COUNT,
    MAX_THREADS,
    MAX_TIME_LIMIT,
    THREAD,
    ConsumerSpec,
)
from .document import LOG_FORMATS, Config, ConfigError, load_config, parse_config, warnings
from .exchanges import ExchangeSpec
from .http import DEFAULT_HTTP_ADDRESS, DEFAULT_HTTP_REQUEST_TIMEOUT, HttpSpec
from .processes import AUTO, MAX_PROCESSES, process_count
from .queues import QueueSpec
from .retry import MAX_RETRIES, RetrySpec
from .yamlfile import MAX_YAML_DEPTH, MAX_YAML_VALUES

__all__ = [
    "AUTO",
    "DEFAULT_HTTP_ADDRESS",
    "DEFAULT_HTTP_REQUEST_TIMEOUT",
    "LOG_FORMATS",
    "MAX_CONSUMER_COUNT",
    "MAX_NAME_BYTES",
    "MAX_PORT",
    "MAX_PREFETCH_COUNT",
    "MAX_PROCESSES",
    "MAX_RETRIES",
    "MAX_THREADS",
    "MAX_TIME_LIMIT",
    "MAX_YAML_DEPTH",
    "MAX_YAML_VALUES",
    "BindingSpec",
    "Config",
    "ConfigError",
    "ConsumerSpec",
    "ExchangeSpec",
    "HttpSpec",
    "QueueSpec",
    "RetrySpec",
    "THREAD",
    "default_archive_queue",
    "load_config",
    "parse_config",
    "process_count",
    "warnings",
]
