"""What becomes of a message whose consume raised: the failure policies (the default requeues
the message, RetryPolicy copies it to a delay queue or the archive), which one a consumers entry
gets, and the settling of the message by its policy."""

from .answerable import Answerable
from .choice import policy_for
from .policy import AnswerLater, FailurePolicy, RequeueAndReplace
from .retry import PermanentFailure, RetryPolicy
from .settle import settle_failure

__all__ = [
    "AnswerLater",
    "Answerable",
    "FailurePolicy",
    "PermanentFailure",
    "RequeueAndReplace",
    "RetryPolicy",
    "policy_for",
    "settle_failure",
]
