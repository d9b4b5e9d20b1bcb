"""Consumer classes whose constructors annotate their parameters, as strings (the annotations
below are never evaluated at import), for the checks of option values against them."""

from __future__ import annotations

from typing import Any, Literal, Optional, Union


class _Consumer:
    def consume(self, amqp, msg) -> None:
        pass

    def shutdown(self, exception) -> None:
        pass


class Typed(_Consumer):
    def __init__(
        self,
        failure_rate: float = 0.0,
        count: int = 1,
        name: str = "",
        enabled: bool = False,
        raw: bytes = b"",
        limit: Optional[int] = None,  # noqa: UP045 - the typing form on purpose
        either: Union[int, str] = 0,  # noqa: UP007 - the typing form on purpose
        maybe: float | None = 0.5,
        hosts: list[str] = (),
        weights: dict[str, float] = None,
        pair: tuple[str, int] = ("", 0),
        many: tuple[int, ...] = (),
        anything: Any = None,
        mode: Literal["fast", "slow"] = "fast",
        unknown: NoSuchName = None,  # noqa: F821 - unresolvable: skipped
        later: set[int] = None,  # not checked
        untyped=None,
        *,
        implicit: float = None,
    ) -> None:
        pass


class Extra(_Consumer):
    def __init__(self, *args: str, **options: int) -> None:
        pass
