"""Publisher-confirm bookkeeping."""

from __future__ import annotations

import itertools

import gevent.event
import pika

from .errors import ChannelClosed, PublishError, PublishRefused
from .outgoing import Outgoing


class Confirms:
    """Publisher-confirm bookkeeping for one channel. The broker numbers published messages
    1, 2, 3... and acks or nacks them, possibly several at once (`multiple`).

    A basic.return names no number, but it comes before the confirm of the message it returns,
    and carries its exchange, routing key and body. So every mandatory message in flight that
    it could be, by those three, is taken as returned: several only when identical messages are
    in flight at once, and then one of them may fail though routed, and be sent again by its
    caller, rather than one be lost, taken as routed."""

    def __init__(self) -> None:
        self.pending: dict[int, gevent.event.AsyncResult] = {}
        self._numbers = itertools.count(1)
        self._mandatory: dict[int, tuple[str, str, bytes]] = {}  # in flight, by number
        self._returned: dict[int, str] = {}  # why, by number

    def sent(self, message: Outgoing) -> gevent.event.AsyncResult:
        number = next(self._numbers)
        result = gevent.event.AsyncResult()
        self.pending[number] = result
        if message.mandatory:
            self._mandatory[number] = _returnable(
                message.exchange, message.routing_key, message.body
            )
        return result

    def on_return(self, _channel, method, _properties, body: bytes) -> None:
        returned = _returnable(method.exchange, method.routing_key, body)
        why = f"unroutable: {method.reply_text} ({method.reply_code})"
        for number, message in self._mandatory.items():
            if message == returned:
                self._returned[number] = why

    def on_confirm(self, frame) -> None:
        method = frame.method
        last = method.delivery_tag
        numbers = (
            itertools.takewhile(lambda n: n <= last, self.pending) if method.multiple else [last]
        )
        for number in list(numbers):
            result = self.pending.pop(number, None)
            self._mandatory.pop(number, None)
            returned = self._returned.pop(number, None)
            if result is None:
                continue
            if returned:
                result.set_exception(PublishRefused(returned))
            elif isinstance(method, pika.spec.Basic.Nack):
                result.set_exception(PublishError("the broker nacked the message"))
            else:
                result.set(None)

    def fail_all(self, error: ChannelClosed) -> None:
        for result in self.pending.values():
            result.set_exception(error)
        self.pending.clear()
        self._mandatory.clear()
        self._returned.clear()


def _returnable(exchange: str | bytes, routing_key: str | bytes, body: bytes) -> tuple:
    """What a basic.return tells of a message, alike whether given as str or bytes."""
    return (_text(exchange), _text(routing_key), body)


def _text(name: str | bytes) -> str:
    return name.decode() if isinstance(name, bytes) else name
