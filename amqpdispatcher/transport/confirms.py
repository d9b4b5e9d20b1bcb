"""Publisher-confirm bookkeeping."""

from __future__ import annotations

import itertools

import gevent.event
import gevent.lock
import pika

from .errors import ChannelClosed, PublishError


class Confirms:
    """Publisher-confirm bookkeeping for one channel. The broker numbers published messages
    1, 2, 3... and acks or nacks them, possibly several at once (`multiple`). A basic.return
    names no number, so at most one mandatory publish is in flight: a return is its."""

    def __init__(self) -> None:
        self.pending: dict[int, gevent.event.AsyncResult] = {}
        self.mandatory = gevent.lock.Semaphore()
        self._numbers = itertools.count(1)
        self._mandatory_number: int | None = None
        self._returned: str | None = None

    def sent(self, mandatory: bool) -> gevent.event.AsyncResult:
        number = next(self._numbers)
        result = gevent.event.AsyncResult()
        self.pending[number] = result
        if mandatory:
            self._mandatory_number = number
            result.rawlink(lambda _result: self.mandatory.release())
        return result

    def on_return(self, _channel, method, _properties, _body) -> None:
        self._returned = f"unroutable: {method.reply_text} ({method.reply_code})"

    def on_confirm(self, frame) -> None:
        method = frame.method
        last = method.delivery_tag
        numbers = (
            itertools.takewhile(lambda n: n <= last, self.pending) if method.multiple else [last]
        )
        for number in list(numbers):
            result = self.pending.pop(number, None)
            if result is None:
                continue
            if number == self._mandatory_number and self._returned:
                result.set_exception(PublishError(self._returned))
                self._mandatory_number = self._returned = None
            elif isinstance(method, pika.spec.Basic.Nack):
                result.set_exception(PublishError("the broker nacked the message"))
            else:
                result.set(None)

    def fail_all(self, error: ChannelClosed) -> None:
        for result in self.pending.values():
            result.set_exception(error)
        self.pending.clear()
