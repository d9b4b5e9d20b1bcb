"""Extension points: middleware observes the daemon's life and each consume call."""

from .middleware import CONSUMER_TIMEOUT, Hooks, Middleware

__all__ = ["CONSUMER_TIMEOUT", "Hooks", "Middleware"]
