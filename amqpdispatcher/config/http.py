"""`http`: where the metrics and probes are served (the command line wins)."""

from dataclasses import dataclass
from typing import Any

from ..limits import MAX_PORT
from .checks import SECONDS, fields, int_between, is_mapping, text

DEFAULT_HTTP_ADDRESS = "127.0.0.1"
DEFAULT_HTTP_REQUEST_TIMEOUT = 10.0  # seconds for a request line, headers and answer


@dataclass(frozen=True)
class HttpSpec:
    """The `http` block: where the metrics and probes are served (the command line wins)."""

    port: int | None
    address: str
    request_timeout: float = DEFAULT_HTTP_REQUEST_TIMEOUT


NO_HTTP = HttpSpec(port=None, address=DEFAULT_HTTP_ADDRESS)


def http(value: Any, path: str, problems: list[str]) -> HttpSpec | None:
    if not is_mapping(value, path, problems):
        return None
    return HttpSpec(**fields(value, path, _FIELDS, problems))


_FIELDS = {
    "port": (int_between(1, MAX_PORT), None),
    "address": (text("a non-empty string", non_empty=True), DEFAULT_HTTP_ADDRESS),
    "request_timeout": (SECONDS, DEFAULT_HTTP_REQUEST_TIMEOUT),
}
