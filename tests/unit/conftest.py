"""Fixtures for the rig of the unit tests, which need no broker: its transport is the double in
channel.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

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
