"""amqp-dispatcher: a daemon that runs Python consumer classes against RabbitMQ."""

from .middleware import FailurePolicy, Middleware, RequeueAndReplace
from .proxy import AlreadyAnswered
from .retry.policy import PermanentFailure, RetryPolicy
from .transport import PublishError

__all__ = [
    "AlreadyAnswered",
    "FailurePolicy",
    "Middleware",
    "PermanentFailure",
    "PublishError",
    "RequeueAndReplace",
    "RetryPolicy",
]
