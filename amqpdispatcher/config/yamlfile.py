"""Reading the YAML file. Hostile input (alias bombs, deep nesting, recursive aliases) is
refused from the composed node graph, before construction builds anything from it."""

from typing import Any, BinaryIO

import yaml

from ..excerpt import clip
from .paths import join

MAX_YAML_VALUES = 100_000  # after alias expansion
MAX_YAML_DEPTH = 50
_MERGE_TAG = "tag:yaml.org,2002:merge"


class Unreadable(Exception):
    """The file cannot be read, or is not YAML; the text says why, with the position."""


def read_yaml(path: str, problems: list[str]) -> object:
    """The document's data; duplicate keys are appended to problems, a file that cannot be read
    or parsed raises Unreadable."""
    try:
        # Binary mode lets PyYAML detect the encoding and report bad bytes as a YAMLError.
        with open(path, "rb") as stream:
            return _load_yaml(stream, problems)
    except OSError as error:
        raise Unreadable(f"cannot read: {error.strerror or error}") from None
    except yaml.YAMLError as error:
        raise Unreadable(_describe_yaml_error(error)) from None


def _load_yaml(stream: BinaryIO, problems: list[str]) -> object:
    loader = _Loader(stream)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        walk = _NodeWalk()
        walk.visit(root, "", 1)
        problems.extend(walk.duplicates)
        return loader.construct_document(root)
    finally:
        loader.dispose()


class _Loader(yaml.SafeLoader):
    """SafeLoader that stops at MAX_YAML_DEPTH instead of at Python's recursion limit, and turns
    the errors PyYAML lets escape from some scalars (a 13th month, an int of 5000 digits, a
    malformed !!timestamp) into YAML errors with a position."""

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        if self._depth == MAX_YAML_DEPTH:
            raise _too_deep(self.peek_event().start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, AttributeError) as error:
            problem = f"bad {node.tag.rsplit(':', 1)[-1]} value: {error}"
            raise yaml.MarkedYAMLError(problem=problem, problem_mark=node.start_mark) from None


class _NodeWalk:
    """Visits the node graph as construction will expand it, each alias as often as it is
    used, so an alias bomb is refused after MAX_YAML_VALUES visits rather than after filling
    the memory. Collects duplicate keys on the way, each reported once."""

    def __init__(self) -> None:
        self.duplicates: list[str] = []
        self._visits = 0
        self._seen: set[int] = set()
        self._open: set[int] = set()  # the nodes enclosing the current one

    def visit(self, node: yaml.Node, path: str, depth: int) -> None:
        if id(node) in self._open:
            raise _refused("an alias refers to a value that contains it", node.start_mark)
        self._visits += 1
        if self._visits > MAX_YAML_VALUES:
            raise _refused(f"more than {MAX_YAML_VALUES} values, counting aliases at each use")
        if depth > MAX_YAML_DEPTH:
            raise _too_deep(node.start_mark)
        first_visit = id(node) not in self._seen
        self._seen.add(id(node))
        self._open.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.visit(item, f"{path}[{index}]", depth + 1)
        elif isinstance(node, yaml.MappingNode):
            if first_visit:
                self._check_keys(node, path)
            for key_node, value_node in node.value:
                where = join(path, _key_label(key_node))
                self.visit(key_node, where, depth + 1)
                self.visit(value_node, where, depth + 1)
        self._open.discard(id(node))

    def _check_keys(self, node: yaml.MappingNode, path: str) -> None:
        """Merge keys (<<) are left out: the keys they bring in may be overridden."""
        first_marks: dict[tuple[str, str], yaml.Mark] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            key, mark = (key_node.tag, key_node.value), key_node.start_mark
            if key in first_marks:
                self.duplicates.append(
                    f"{join(path, key_node.value)}: duplicate key at {_position(mark)}"
                    f" (first at {_position(first_marks[key])})"
                )
            else:
                first_marks[key] = mark


def _key_label(key_node: yaml.Node) -> str:
    return key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"


def _refused(problem: str, mark: yaml.Mark | None = None) -> yaml.MarkedYAMLError:
    return yaml.MarkedYAMLError(problem=problem, problem_mark=mark)


def _too_deep(mark: yaml.Mark) -> yaml.MarkedYAMLError:
    return _refused(f"nested more than {MAX_YAML_DEPTH} levels deep", mark)


def _position(mark: yaml.Mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _describe_yaml_error(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark and error.problem:
        return clip(f"{_position(error.problem_mark)}: {error.problem}", limit=200)
    return clip(" ".join(str(error).split()), limit=200)
