"""Middleware for the integration tests: each hook call is recorded, as scripted.py records
consume calls, under the event "hook"."""

from scripted import record

from amqpdispatcher import Middleware


class Recording(Middleware):
    def before_consume(self, consumer, instance, message) -> None:
        record(event="hook", hook="before_consume", consumer=consumer.path, id=message.json()["id"])

    def after_consume(self, consumer, instance, message, answer, exception) -> None:
        record(
            event="hook",
            hook="after_consume",
            consumer=consumer.path,
            id=message.json()["id"],
            answer=answer,
            exception=type(exception).__name__ if exception else None,
        )

    def after_instance_replaced(self, consumer, old, new, exception) -> None:
        record(
            event="hook",
            hook="after_instance_replaced",
            old=old.instance,
            new=new.instance,
            exception=type(exception).__name__,
        )

    def after_connection_opened(self, target) -> None:
        record(event="hook", hook="after_connection_opened", target=str(target))

    def after_connection_lost(self, target, reason) -> None:
        record(event="hook", hook="after_connection_lost", target=str(target))

    def after_consuming_started(self, consumer) -> None:
        record(event="hook", hook="after_consuming_started", queue=consumer.queue)

    def after_consuming_stopped(self, consumer, reason) -> None:
        record(event="hook", hook="after_consuming_stopped", queue=consumer.queue, reason=reason)

    def before_shutdown(self) -> None:
        record(event="hook", hook="before_shutdown")


class Raising(Middleware):
    """Every hook raises."""

    def _raise(self, *args) -> None:
        raise RuntimeError("middleware bug")

    before_consume = after_consume = after_instance_replaced = _raise
    after_connection_opened = after_connection_lost = _raise
    after_consuming_started = after_consuming_stopped = before_shutdown = _raise


class FailsToStart(Middleware):
    def __init__(self) -> None:
        raise ConnectionError("metrics endpoint down")


class NotMiddleware:
    def before_consume(self, consumer, instance, message) -> None:
        pass
