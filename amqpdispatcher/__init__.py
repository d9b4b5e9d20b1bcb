"""amqp-dispatcher: a daemon that runs Python consumer classes against RabbitMQ."""

from .middleware import AnswerLater, FailurePolicy, Middleware, RequeueAndReplace
from .proxy import AlreadyAnswered
from .retry.policy import PermanentFailure, RetryPolicy
from .transport import PublishError, PublishRefused

__all__ = [
    "AlreadyAnswered",
    "AnswerLater",
    "FailurePolicy",
    "Middleware",
    "PermanentFailure",
    "PublishError",
    "PublishRefused",
    "RequeueAndReplace",
    "RetryPolicy",
]
