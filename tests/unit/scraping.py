"""The arbiter's endpoint asked in-process, without a server: what a scrape or a probe gets."""

from __future__ import annotations

from dataclasses import dataclass
from wsgiref.util import setup_testing_defaults

from prometheus_client.parser import text_string_to_metric_families

from amqpdispatcher.http import Endpoint

Samples = dict[tuple[str, frozenset], float]


@dataclass
class Counts:
    """The arbiter's counts of its workers, as the endpoint reads them."""

    running: int = 0
    restarts: int = 0


def call(endpoint: Endpoint, path: str) -> tuple[str, str]:
    """The status line and the body of the answer to a GET of `path`."""
    answer: list[str] = []
    environ = {"PATH_INFO": path}
    setup_testing_defaults(environ)
    body = endpoint._app(environ, lambda status, headers: answer.append(status))
    return answer[0], b"".join(body).decode()


def scrape(directory: str, stats: Counts | None = None) -> Samples:
    """The samples /metrics shows for the files in `directory`, by name and labels."""
    endpoint = Endpoint(directory, stats or Counts(), lambda: {"ready": True})
    status, body = call(endpoint, "/metrics")
    assert status == "200 OK"
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def sample(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((f"amqp_dispatcher_{name}", frozenset(labels.items())))
