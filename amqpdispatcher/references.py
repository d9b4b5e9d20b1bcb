"""Exchanges the config uses without declaring them: bound to, or dead-lettered into."""

from __future__ import annotations

from dataclasses import dataclass

from .config import Config
from .substitution import shown

DEAD_LETTERING = "nack or reject without requeue, expiry, overflow"


@dataclass(frozen=True)
class Reference:
    exchange: str
    path: str  # the YAML path of the key that names it
    queue: str
    dead_letter: bool  # named as the queue's dead-letter exchange, not bound to


def undeclared_exchanges(config: Config) -> list[Reference]:
    """Queue by queue, its dead-letter exchange, then the exchanges of its bindings, for each
    that is neither declared under `exchanges` nor built in (the default exchange '' and every
    'amq.*')."""
    declared = {exchange.name for exchange in config.exchanges}
    references = []
    for queue in config.queues:
        dead_letter = queue.arguments.get("x-dead-letter-exchange")
        if isinstance(dead_letter, str):
            path = queue.argument_paths["x-dead-letter-exchange"]
            references.append(Reference(dead_letter, path, queue.name, dead_letter=True))
        for binding in queue.bindings:
            if binding.exchange is None:  # a bad name, in a config that is not valid
                continue
            path = f"{binding.path}.exchange"
            references.append(Reference(binding.exchange, path, queue.name, dead_letter=False))
    return [ref for ref in references if not _needs_no_declaration(ref.exchange, declared)]


def warnings(config: Config) -> list[str]:
    """One line for each exchange the config uses without declaring it, naming its YAML path
    and what may go wrong."""
    return [
        f"{ref.path}: exchange {shown(ref.exchange)} is not declared under exchanges: {_risk(ref)}"
        for ref in undeclared_exchanges(config)
    ]


def _risk(ref: Reference) -> str:
    if ref.dead_letter:
        return (
            f"if it does not exist, messages dead-lettered from queue {shown(ref.queue)} "
            f"({DEAD_LETTERING}) are silently dropped"
        )
    return (
        "someone else must declare it before the daemon starts, or the broker refuses the binding"
    )


def _needs_no_declaration(name: str, declared: set[str]) -> bool:
    return name == "" or name.startswith("amq.") or name in declared
