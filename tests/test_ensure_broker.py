""".ci/ensure-broker runs before any dependency is installed: it must need only the standard
library, the modules of the package it loads included."""

import subprocess
import sys
from pathlib import Path

from brokers import SHARED

ENSURE_BROKER = Path(__file__).parent.parent / ".ci" / "ensure-broker"


def test_it_needs_only_the_standard_library():
    result = subprocess.run(
        [sys.executable, "-S", str(ENSURE_BROKER)],  # -S: no site-packages, so no gevent
        env={"RABBITMQ_URL": SHARED.url, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
