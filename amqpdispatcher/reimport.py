"""The operator's own modules, told apart so that a worker started after SIGHUP imports them
afresh: a deploy is new files and `kill -HUP`, the arbiter having imported the old ones.

Only the modules that loading the config's code brought in count, and of those only pure Python
ones outside the installed packages and the standard library: an extension module cannot be
imported twice in one process, and an upgraded library needs a restart."""

from __future__ import annotations

import importlib
import site
import sys
import sysconfig
from pathlib import Path

_DAEMON = __name__.partition(".")[0]


class OwnModules:
    def __init__(self) -> None:
        self._before = set(sys.modules)
        self._names: list[str] = []

    def loaded(self) -> None:
        """Note the modules imported since this object was made."""
        installed = _installed_directories()
        self._names = [
            name
            for name, module in list(sys.modules.items())
            if name not in self._before and _is_own(name, module, installed)
        ]

    @property
    def names(self) -> list[str]:
        return list(self._names)

    def forget(self) -> None:
        """Drop them, so that the next import of each reads its file again."""
        for name in self._names:
            sys.modules.pop(name, None)
        importlib.invalidate_caches()


def _is_own(name: str, module: object, installed: tuple[Path, ...]) -> bool:
    if name.partition(".")[0] == _DAEMON:
        return False
    file = getattr(module, "__file__", None)
    if file is None or not file.endswith(".py"):
        return False
    path = Path(file).resolve()
    return not any(path.is_relative_to(directory) for directory in installed)


def _installed_directories() -> tuple[Path, ...]:
    paths = sysconfig.get_paths()
    directories = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    directories.update(site.getsitepackages())
    directories.add(site.getusersitepackages())
    return tuple(Path(directory).resolve() for directory in directories)
