"""The daemon's own interruptions of a consumer's running call: at the stop, and at the time
limit."""

from greenlet import GreenletExit


class Interrupted(GreenletExit):
    """Thrown into a running `consume` or `shutdown` when the stop no longer waits for it: the
    daemon's own, told apart from anything a consumer raises, and like any GreenletExit a quiet
    end of the greenlet."""


class TimeLimitExceeded(BaseException):
    """Thrown into a `consume` call that ran past its entry's `time_limit`: a failure of that
    message, settled by the entry's failure policy. A BaseException, as gevent.Timeout is, so
    that a consume catching Exception does not swallow it."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds

    def __str__(self) -> str:
        return f"consume ran past its time_limit of {self.seconds:g}s"
