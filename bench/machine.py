"""What a run ran on, for the report: the date, the machine, the versions that matter."""

from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

from runs import proc_kib


def machine(broker: str) -> dict:
    """`broker`: the broker's product and version, as it announced them."""
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "memory_gib": round(proc_kib(Path("/proc/meminfo"), "MemTotal") / 1024**2, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "pika": version("pika"),
        "gevent": version("gevent"),
        "broker": broker,
    }
