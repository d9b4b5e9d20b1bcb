"""The systemd units of example/systemd, checked by systemd-analyze, and the settings the
daemon's stop needs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from recipes import RECIPE_BINARY, SYSTEMD, shutdown_timeout, unit_settings

from amqpdispatcher.daemon import SHUTDOWN_CALLS_TIMEOUT

UNITS = ["amqp-dispatcher.service", "amqp-dispatcher@.service"]


BINARY = Path(sys.executable).parent / "amqp-dispatcher"


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (Debian package systemd)",
)
@pytest.mark.parametrize("unit", UNITS)
def test_systemd_analyze_verifies_the_units(tmp_path, unit):
    # verify wants ExecStart's binary to exist: the venv's stands in for /srv/app's.
    (tmp_path / unit).write_text((SYSTEMD / unit).read_text().replace(RECIPE_BINARY, str(BINARY)))
    name = unit.replace("@.", "@orders.")  # a template is verified as one of its instances
    verify = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / name)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    # A unit with a mistake (an unknown key, a bad value) is verified with warnings, status 0.
    assert (verify.returncode, verify.stdout + verify.stderr) == (0, "")


@pytest.mark.parametrize("unit", UNITS)
def test_the_units_notify_and_wait_out_the_stop(unit):
    settings = unit_settings(SYSTEMD / unit)
    assert RECIPE_BINARY in settings["ExecStart"]
    assert settings["Type"] == "notify" and settings["NotifyAccess"] == "main"
    assert settings["KillSignal"] == "SIGTERM" and settings["KillMode"] == "mixed"
    assert settings["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert settings["Restart"] == "on-failure" and settings["RestartPreventExitStatus"] == "78"
    grace = shutdown_timeout(settings["ExecStart"])
    assert float(settings["TimeoutStopSec"]) > grace + SHUTDOWN_CALLS_TIMEOUT
