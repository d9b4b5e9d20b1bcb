"""`exchanges`: the exchanges the daemon declares."""

from dataclasses import dataclass

from .arguments import arguments
from .checks import BOOL, NAME, REQUIRED, fields, one_of


@dataclass(frozen=True)
class ExchangeSpec:
    name: str
    type: str
    durable: bool
    auto_delete: bool
    internal: bool
    passive: bool
    arguments: dict
    path: str


def exchange(entry: dict, path: str, problems: list[str]) -> ExchangeSpec:
    values = fields(entry, path, _FIELDS, problems)
    return ExchangeSpec(name=values.pop("exchange"), path=path, **values)


_FIELDS = {
    "exchange": (NAME, REQUIRED),
    "type": (one_of("direct", "topic", "fanout", "headers"), "direct"),
    "durable": (BOOL, True),
    "auto_delete": (BOOL, False),
    "internal": (BOOL, False),
    "passive": (BOOL, False),
    "arguments": (arguments, {}),
}
