"""Middleware for the features_on scenario: consume hooks that do nothing, so that what is
measured is the cost of calling them."""

from amqpdispatcher import Middleware


class Noop(Middleware):
    def before_consume(self, consumer, instance, message) -> None:
        pass

    def after_consume(self, consumer, instance, message, answer, exception) -> None:
        pass
