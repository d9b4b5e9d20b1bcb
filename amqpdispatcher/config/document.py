"""The whole file: its top-level keys, each section checked by its own module, every problem
collected so that all can be fixed at once."""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import ConfigurationError
from ..excerpt import excerpt
from .broker_versions import broker_version_warnings
from .checks import BOOL, IMPORT_PATH, REQUIRED, fields, list_of, one_of
from .consumers import ConsumerSpec, consumer
from .environment import substitute
from .exchanges import ExchangeSpec, exchange
from .http import NO_HTTP, HttpSpec, http
from .middleware import middleware
from .processes import PROCESSES
from .queues import QueueSpec, queue
from .retry_queues import retry_queues
from .yamlfile import Unreadable, read_yaml

LOG_FORMATS = ("text", "json")


class ConfigError(ConfigurationError):
    """Carries every problem found; each is one line 'YAML.path: message'. `partial` is the
    config as far as it could be read, a bad value left at its default or None, when the YAML
    itself was read: --validate shows the warnings about it beside the problems."""

    def __init__(self, source: str, problems: list[str], partial: "Config | None" = None) -> None:
        self.source = source
        self.problems = list(problems)
        self.partial = partial
        super().__init__("\n".join(f"{source}: {problem}" for problem in self.problems))


@dataclass(frozen=True)
class Config:
    source: str
    startup_handler: str | None
    middleware: tuple[str, ...]
    exchanges: tuple[ExchangeSpec, ...]
    queues: tuple[QueueSpec, ...]
    consumers: tuple[ConsumerSpec, ...]
    # The delay and archive queues of the consumers' retry blocks (retry_queues.py), declared
    # after `queues`.
    retry_queues: tuple[QueueSpec, ...] = ()
    log_format: str = "text"  # one of LOG_FORMATS; --log-format wins
    http: HttpSpec = NO_HTTP
    processes: int | str = 1  # a number, or "auto" (processes.py); --processes wins
    tracing: bool = False  # OpenTelemetry spans (middleware/tracing.py), first of the middleware


def load_config(path: str, environ: Mapping[str, str] = os.environ) -> Config:
    """The config in the file at `path`, its environment references read from `environ`."""
    problems: list[str] = []
    try:
        data = read_yaml(path, problems)
    except Unreadable as error:
        raise ConfigError(path, [str(error)]) from None
    return _build_config(data, path, environ, problems)


def parse_config(data: object, source: str, environ: Mapping[str, str] = os.environ) -> Config:
    return _build_config(data, source, environ, [])


def _build_config(
    data: object, source: str, environ: Mapping[str, str], problems: list[str]
) -> Config:
    if not isinstance(data, dict):
        problems.append(f"(top level): expected a mapping, got {excerpt(data)}")
        raise ConfigError(source, problems)
    data = substitute(data, "", environ, problems)
    values = fields(data, "", _FIELDS, problems)
    values["consumers"] = values["consumers"] or ()
    values["retry_queues"] = retry_queues(values["queues"], values["consumers"], problems)
    config = Config(source=source, **values)
    if problems:
        raise ConfigError(source, problems, partial=config)
    return config


def warnings(config: Config) -> list[str]:
    """What is valid but probably not meant, or what newer brokers refuse, one line each with
    its YAML path."""
    unlimited = [
        f"{spec.path}.prefetch_count: 0 means unlimited: the broker sends every ready message "
        "at once"
        for spec in config.consumers
        if spec.prefetch_count == 0
    ]
    return unlimited + broker_version_warnings(config.queues, config.consumers, config.retry_queues)


_FIELDS = {
    "startup_handler": (IMPORT_PATH, None),
    "middleware": (middleware, ()),
    "exchanges": (list_of(exchange, unique="exchange"), ()),
    "queues": (list_of(queue, unique="queue"), ()),
    "consumers": (list_of(consumer, non_empty=True), REQUIRED),
    "log_format": (one_of(*LOG_FORMATS), "text"),
    "http": (http, NO_HTTP),
    "processes": (PROCESSES, 1),
    "tracing": (BOOL, False),
}
