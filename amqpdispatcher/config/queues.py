"""`queues`: the queues the daemon declares, their arguments and bindings."""

from dataclasses import dataclass, field

from ..limits import INT64_MAX, UINT32_MAX
from .arguments import arguments
from .bindings import BindingSpec, binding
from .checks import BOOL, NAME, REQUIRED, STRING, fields, int_between, list_of, one_of
from .paths import join


@dataclass(frozen=True)
class QueueSpec:
    name: str
    durable: bool
    auto_delete: bool
    exclusive: bool
    passive: bool
    arguments: dict
    bindings: tuple[BindingSpec, ...]
    path: str
    argument_paths: dict[str, str] = field(default_factory=dict)  # YAML path of each argument


def queue(entry: dict, path: str, problems: list[str]) -> QueueSpec:
    values = fields(entry, path, _FIELDS, problems)
    merged, argument_paths = _merge_queue_arguments(values, path, problems)
    _check_replicated(values, merged.get("x-queue-type"), path, problems)
    return QueueSpec(
        name=values["queue"],
        durable=values["durable"],
        auto_delete=values["auto_delete"],
        exclusive=values["exclusive"],
        passive=values["passive"],
        arguments=merged,
        bindings=values["bindings"],
        path=path,
        argument_paths=argument_paths,
    )


def _merge_queue_arguments(
    values: dict, path: str, problems: list[str]
) -> tuple[dict, dict[str, str]]:
    """Turn the x_ shorthand keys into broker arguments and add the explicit ones; return them
    with the YAML path each comes from."""
    merged, paths = {}, {}
    for key in _X_KEYS:
        if values[key] is not None:
            name = key.replace("_", "-")
            merged[name], paths[name] = values[key], f"{path}.{key}"
    for name, value in values["arguments"].items():
        if name in merged:
            problems.append(f"{path}.arguments.{name}: also set by {name.replace('-', '_')}")
        merged[name], paths[name] = value, join(f"{path}.arguments", name)
    return merged, paths


def _check_replicated(values: dict, queue_type: object, path: str, problems: list[str]) -> None:
    """RabbitMQ refuses quorum and stream queues that are transient, exclusive or auto-delete."""
    if queue_type not in ("quorum", "stream"):
        return
    for key, refused in (("durable", False), ("exclusive", True), ("auto_delete", True)):
        if values[key] is refused:
            expected = str(not refused).lower()
            problems.append(f"{path}.{key}: must be {expected} for a {queue_type} queue")


_FIELDS = {
    "queue": (NAME, REQUIRED),
    "durable": (BOOL, True),
    "auto_delete": (BOOL, False),
    "exclusive": (BOOL, False),
    "passive": (BOOL, False),
    "x_dead_letter_exchange": (STRING, None),
    "x_dead_letter_routing_key": (STRING, None),
    "x_max_length": (int_between(0, INT64_MAX), None),
    "x_expires": (int_between(1, UINT32_MAX), None),
    "x_message_ttl": (int_between(0, UINT32_MAX), None),
    "x_queue_type": (one_of("classic", "quorum", "stream"), None),
    "arguments": (arguments, {}),
    "bindings": (list_of(binding), ()),
}
_X_KEYS = tuple(key for key in _FIELDS if key.startswith("x_"))
