"""The service recipes of example/, read as the tests need them."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

EXAMPLE = Path(__file__).parent.parent / "example"
SYSTEMD = EXAMPLE / "systemd"
SUPERVISOR = EXAMPLE / "supervisor" / "amqp-dispatcher.conf"
SUPERVISOR_PROGRAM = "program:amqp-dispatcher"
RECIPE_BINARY = "/srv/app/venv/bin/amqp-dispatcher"
RECIPE_CONFIG = "/srv/app/config.yml"


def unit_settings(path: Path) -> dict[str, str]:
    """The KEY=value lines of a systemd unit, comments and section headers left out."""
    settings = {}
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z]+)=(.*)", line)
        if match:
            settings[match.group(1)] = match.group(2)
    return settings


def shutdown_timeout(command: str) -> float:
    """The --shutdown-timeout of a command line."""
    words = shlex.split(command)
    return float(words[words.index("--shutdown-timeout") + 1])


def supervisor_recipe() -> configparser.RawConfigParser:
    recipe = configparser.RawConfigParser()
    recipe.read_string(SUPERVISOR.read_text())
    return recipe
