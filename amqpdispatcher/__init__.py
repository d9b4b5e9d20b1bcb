"""amqp-dispatcher: a daemon that runs Python consumer classes against RabbitMQ."""

from .middleware import FailurePolicy, Middleware, RequeueAndReplace
from .proxy import AlreadyAnswered
from .transport import PublishError

__all__ = ["AlreadyAnswered", "FailurePolicy", "Middleware", "PublishError", "RequeueAndReplace"]
