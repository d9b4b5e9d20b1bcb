"""amqp-dispatcher: a daemon that runs Python consumer classes against RabbitMQ."""

from .proxy import AlreadyAnswered
from .transport import PublishError

__all__ = ["AlreadyAnswered", "PublishError"]
