"""Extension points: middleware observes the daemon's life and each consume call."""

from .middleware import BROKER_CANCELLED, CONSUMER_TIMEOUT, Hooks, Middleware

__all__ = ["BROKER_CANCELLED", "CONSUMER_TIMEOUT", "Hooks", "Middleware"]
