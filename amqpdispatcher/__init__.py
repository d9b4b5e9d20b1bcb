"""amqp-dispatcher: a daemon that runs Python consumer classes against RabbitMQ."""

from .connection import PublishError
from .middleware import FailurePolicy, Middleware, RequeueAndReplace
from .proxy import AlreadyAnswered

__all__ = ["AlreadyAnswered", "FailurePolicy", "Middleware", "PublishError", "RequeueAndReplace"]
