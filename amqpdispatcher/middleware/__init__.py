"""Extension points: middleware observes the daemon's life and each consume call; the failure
policy decides what becomes of a message whose consume raised."""

from .failure import AnswerLater, FailurePolicy, RequeueAndReplace
from .middleware import CONSUMER_TIMEOUT, Hooks, Middleware

__all__ = [
    "CONSUMER_TIMEOUT",
    "AnswerLater",
    "FailurePolicy",
    "Hooks",
    "Middleware",
    "RequeueAndReplace",
]
