"""The consume context of the JSON log lines: which queue, consumer and message a record was
logged for. Middleware sets it in the worker greenlet for the length of each consume call;
greenlets have a contextvars context each, so workers that overlap do not mix theirs up."""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING

from ..retry.headers import RETRY_COUNT
from .middleware import Middleware

if TYPE_CHECKING:
    from ..config import ConsumerSpec
    from ..message import Message

_consuming: ContextVar[tuple[ConsumerSpec, Message] | None] = ContextVar(
    "amqp_dispatcher_consuming", default=None
)


def fields() -> dict:
    """The context's fields for a record logged now: none outside a consume call.
    retry_count is the message's x-retry-count header: None on a first delivery."""
    consuming = _consuming.get()
    if consuming is None:
        return {}
    consumer, message = consuming
    info = message.delivery_info
    context = {
        "queue": consumer.queue,
        "consumer": consumer.consumer,
        "delivery_tag": info["delivery_tag"],
    }
    message_id = message.properties.get("message_id")
    if message_id is not None:
        context["message_id"] = message_id
    context["redelivered"] = info["redelivered"]
    context["retry_count"] = message.headers.get(RETRY_COUNT)
    return context


def around(middleware: Sequence[Middleware]) -> list[Middleware]:
    """`middleware` between the two that set and clear the context, so that the context covers
    every other consume hook too, and the daemon's ERROR for a consume that raised, which it
    logs before the after_consume hooks."""
    return [_Enter(), *middleware, _Leave()]


class _Enter(Middleware):
    def before_consume(self, consumer: ConsumerSpec, instance: object, message: Message) -> None:
        _consuming.set((consumer, message))


class _Leave(Middleware):
    def after_consume(
        self,
        consumer: ConsumerSpec,
        instance: object,
        message: Message,
        answer: str | None,
        exception: BaseException | None,
    ) -> None:
        _consuming.set(None)
