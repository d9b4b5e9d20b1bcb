"""amqp-dispatcher: a daemon that runs Python consumer classes against RabbitMQ."""

from .failure import AnswerLater, FailurePolicy, PermanentFailure, RequeueAndReplace, RetryPolicy
from .interruption import TimeLimitExceeded
from .middleware import Middleware
from .proxy import AlreadyAnswered
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
    "TimeLimitExceeded",
]
