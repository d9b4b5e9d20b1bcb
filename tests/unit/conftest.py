"""Fixtures for the rig of the unit tests, which need no broker: its transport is the double in
channel.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from prometheus_client import values

from .channel import FakeChannel
from .rig import Rig, settle


@pytest.fixture
def channel() -> FakeChannel:
    return FakeChannel()


@pytest.fixture
def rig() -> Iterator[Callable[..., Rig]]:
    """Makes Rigs; at the end, kills the consume calls a test left blocked."""
    rigs: list[Rig] = []

    def make(**options) -> Rig:
        rigs.append(Rig(**options))
        return rigs[-1]

    yield make
    for each in rigs:
        each.dispatch.interrupt("at the end of the test")
    settle()


@pytest.fixture
def directory(tmp_path, monkeypatch) -> Iterator[str]:
    """A worker's $PROMETHEUS_MULTIPROC_DIR, with prometheus-client's choice of values restored
    at the end: a test sets values.ValueClass to write into it."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setattr(values, "ValueClass", values.ValueClass)
    yield str(tmp_path)
    values.close_all_multiprocess_files()
