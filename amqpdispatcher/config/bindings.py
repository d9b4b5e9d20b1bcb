"""`bindings` of a queue: the exchanges it is bound to."""

from dataclasses import dataclass

from .arguments import arguments
from .checks import NAME, REQUIRED, SHORT_STRING, fields


@dataclass(frozen=True)
class BindingSpec:
    exchange: str
    routing_key: str
    arguments: dict
    path: str


def binding(entry: dict, path: str, problems: list[str]) -> BindingSpec:
    return BindingSpec(path=path, **fields(entry, path, _FIELDS, problems))


_FIELDS = {
    "exchange": (NAME, REQUIRED),  # '' is the default exchange, which cannot be bound
    "routing_key": (SHORT_STRING, ""),
    "arguments": (arguments, {}),
}
