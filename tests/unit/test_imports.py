"""The package's import graph has no circle: no module imports one that imports it back, through
any number of others, type-only imports included (docs/development.rst, "The map")."""

import ast
from pathlib import Path

import amqpdispatcher

PACKAGE = Path(amqpdispatcher.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that the file at `path` imports; the root package aside, which
    Python imports before any of its modules, so that `from . import backoff` counts as an
    import of backoff alone."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, package)
            targets.update([module, *(f"{module}.{alias.name}" for alias in node.names)])
    found = {_enclosing(target, modules) for target in targets}
    return found - {None, name, "amqpdispatcher"}


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if node.level == 0:
        return node.module
    parts = package.split(".")
    base = parts[: len(parts) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _enclosing(target: str, modules: set[str]) -> str | None:
    while target and target not in modules:
        target = target.rpartition(".")[0]
    return target or None


def circle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """A path of imports from `start` back to it, if there is one."""
    paths, seen = [[start]], set()
    while paths:
        path = paths.pop()
        for target in sorted(graph[path[-1]]):
            if target == start:
                return [*path, start]
            if target not in seen:
                seen.add(target)
                paths.append([*path, target])
    return None


def test_no_module_imports_one_that_imports_it_back():
    files = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {name: imported(path, set(files)) for name, path in files.items()}
    circles = [circle_from(name, graph) for name in sorted(graph)]
    assert [" -> ".join(circle) for circle in circles if circle] == []
