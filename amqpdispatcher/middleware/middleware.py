"""The middleware base class, and the hooks that call every middleware in turn."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import gevent

from ..interruption import Interrupted

if TYPE_CHECKING:
    from ..config import ConsumerSpec
    from ..message import Message
    from ..transport import ServerInfo
    from ..url import Target

log = logging.getLogger("amqp-dispatcher.middleware")

# How the reason given to after_consuming_stopped starts when the broker closed the channel for a
# delivery unanswered past its delivery acknowledgement timeout (consumer_timeout).
CONSUMER_TIMEOUT = "consumer_timeout:"
# How it starts when the broker cancelled the consumer (basic.cancel): the queue was deleted, or,
# from RabbitMQ 4.3, a quorum queue's consumer timed out.
BROKER_CANCELLED = "cancelled:"


class Middleware:
    """Subclass and override the hooks you need; each does nothing here.

    The consume hooks run in the greenlet of the consume call, in the order the middleware is
    listed (`after_consume` in that order too); the others run in the daemon's greenlets. Any
    of them may yield to gevent, briefly: the daemon waits for them. One that raises is logged,
    and the daemon carries on as if it had returned."""

    def before_consume(self, consumer: ConsumerSpec, instance: object, message: Message) -> None:
        """Before `instance.consume` is called with `message`."""

    def after_consume(
        self,
        consumer: ConsumerSpec,
        instance: object,
        message: Message,
        answer: str | None,
        exception: BaseException | None,
    ) -> None:
        """After the call, once the message is answered: `answer` is "ack", "nack" or
        "reject", `exception` what consume raised, if it did."""

    def after_instance_replaced(
        self, consumer: ConsumerSpec, old: object, new: object, exception: BaseException
    ) -> None:
        """An instance raised `exception`; `new` replaces `old`, on which shutdown was called."""

    def after_instance_retired(
        self, consumer: ConsumerSpec, instance: object, exception: BaseException | None
    ) -> None:
        """shutdown(exception) was called on `instance`: it raised and is being replaced, or
        the daemon is stopping (`exception` None)."""

    def after_retry(self, consumer: ConsumerSpec, message: Message, retry_count: int) -> None:
        """The retry policy sent a copy of the failed `message` to a delay queue, as retry
        `retry_count`, and the broker confirmed it."""

    def after_archive(
        self, consumer: ConsumerSpec, message: Message, exception: BaseException
    ) -> None:
        """The retry policy sent a copy of `message`, failed for good with `exception`, to the
        archive, and the broker confirmed it."""

    def before_publish(self, exchange: str, routing_key: str, headers: dict, copy: bool) -> None:
        """Before a message for `exchange` and `routing_key` is encoded: `headers` is a new
        dict, the message's own headers copied into it, to which the hook may add. `copy` is
        true for the retry policy's copies. after_publish follows, unless encoding refuses
        the message (TypeError, ValueError). The daemon makes that dict only when a middleware
        overrides this hook."""

    def after_publish(self, exchange: str, routing_key: str, confirmed: bool) -> None:
        """A consumer's publish ended: the broker confirmed the message, or it failed
        (PublishError). Retry and archive copies are publishes too."""

    def after_publishing_blocked(self, reason: str) -> None:
        """The broker blocked the publishing connection (a memory or disk alarm): publishes,
        retry copies included, wait until it unblocks it."""

    def after_publishing_unblocked(self) -> None:
        """The broker unblocked the publishing connection, or that connection closed."""

    def after_connection_opened(self, target: Target) -> None:
        """The daemon's connection to `target` is open; the topology is declared next."""

    def after_broker_identified(self, target: Target, server: ServerInfo) -> None:
        """Right after after_connection_opened: the broker at `target` announced itself as
        `server`, its `product` ("RabbitMQ") and `version` ("3.10.8"), "unknown" if left out."""

    def after_connection_lost(self, target: Target, reason: Exception) -> None:
        """The connection to `target` was lost; the daemon reconnects."""

    def after_consuming_started(self, consumer: ConsumerSpec) -> None:
        """The pool subscribed to its queue: on each connection, and after each recovery."""

    def after_consuming_stopped(self, consumer: ConsumerSpec, reason: str) -> None:
        """The pool's subscription ended: its channel closed, the broker cancelled it, or the
        daemon is stopping. `reason` starts with "consumer_timeout:" when the broker closed the
        channel for a delivery unanswered past its delivery acknowledgement timeout, with
        "cancelled:" when it cancelled the consumer."""

    def before_shutdown(self) -> None:
        """The daemon is stopping: it stops taking messages and lets running calls finish."""


class Hooks:
    """Calls a hook on every middleware that overrides it, in order. False when there is no
    middleware, so that the hot path can skip building a hook's arguments: with none it costs
    nothing, and a middleware costs nothing on the hooks it leaves alone."""

    def __init__(self, middleware: Sequence[Middleware] = ()) -> None:
        self.middleware = tuple(middleware)
        self._hub = gevent.get_hub()
        self._overrides: dict[str, tuple[tuple[Middleware, Callable[..., None]], ...]] = {}

    def __bool__(self) -> bool:
        return bool(self.middleware)

    def __call__(self, hook: str, *args: object) -> None:
        """Call `hook`; from the hub, where nothing may block, in a greenlet of its own."""
        if gevent.getcurrent() is self._hub:
            gevent.spawn(self, hook, *args)
            return
        for each, call in self._calls(hook):
            try:
                call(*args)
            except Interrupted:
                raise
            except BaseException:
                log.exception("middleware %s.%s raised; carrying on", type(each).__name__, hook)

    def overrides(self, hook: str) -> bool:
        """Whether any middleware overrides `hook`: the caller may skip building its arguments."""
        return bool(self._calls(hook))

    def _calls(self, hook: str) -> tuple[tuple[Middleware, Callable[..., None]], ...]:
        calls = self._overrides.get(hook)
        if calls is None:
            calls = self._overrides[hook] = self._overriding(hook)
        return calls

    def _overriding(self, hook: str) -> tuple[tuple[Middleware, Callable[..., None]], ...]:
        """The middleware whose `hook` is not Middleware's own, which does nothing."""
        default = getattr(Middleware, hook)
        calls = ((each, getattr(each, hook)) for each in self.middleware)
        return tuple(
            (each, call) for each, call in calls if getattr(call, "__func__", None) is not default
        )
