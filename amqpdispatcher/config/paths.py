"""YAML paths, such as queues[0].arguments.x-max-length, that every problem starts with."""

from ..excerpt import clip, excerpt


def join(path: str, key: object) -> str:
    """The path of `key` in the mapping at `path`; a key that is not printable text is quoted."""
    label = clip(key) if isinstance(key, str) and key.isprintable() else excerpt(key)
    return f"{path}.{label}" if path else label
