"""The daemon's own interruption of a consumer's running call."""

from greenlet import GreenletExit


class Interrupted(GreenletExit):
    """Thrown into a running `consume` or `shutdown` when the stop no longer waits for it: the
    daemon's own, told apart from anything a consumer raises, and like any GreenletExit a quiet
    end of the greenlet."""
