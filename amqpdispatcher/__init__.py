"""amqp-dispatcher: a daemon that runs Python consumer classes against RabbitMQ."""

from .connection import PublishError
from .proxy import AlreadyAnswered

__all__ = ["AlreadyAnswered", "PublishError"]
