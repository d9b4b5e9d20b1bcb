"""The transport's errors: what a connection, a channel or a publish can fail with."""

from __future__ import annotations

from ..errors import DispatcherError

NOT_FOUND = 404
PRECONDITION_FAILED = 406


class AMQPError(DispatcherError):
    """Base of the transport's errors; the text is meant for a log line."""


class ConnectionFailed(AMQPError):
    """A broker could not be reached, or the connection to it was lost."""


class Refused(AMQPError):
    """Retrying will not help: the broker refused the credentials or the vhost, its TLS
    certificate does not verify, or the TLS files cannot be used."""


class PublishError(AMQPError):
    """The broker did not take a published message: it nacked it, it could not route it
    (mandatory), or the channel or connection closed before the broker confirmed it."""


class PublishRefused(PublishError):
    """The broker refused the message itself, so publishing it again cannot help: no such
    exchange, unroutable (mandatory), or a property it does not accept (a user_id not the
    publishing user's)."""


class ChannelClosed(AMQPError):
    """The channel is closed. `code` and `text` are the broker's reply when the broker closed
    it for an error; code 0 means that it was closed by the client or with its connection."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{text} ({code})" if code else text)
        self.code = code
        self.text = text

    @property
    def ack_timed_out(self) -> bool:
        """Whether the broker closed the channel because a delivery went unanswered past its
        delivery acknowledgement timeout (RabbitMQ's consumer_timeout). RabbitMQ says so only
        in the text: "delivery acknowledgement on channel 1 timed out", or, in some versions,
        "consumer ack timed out on channel 1"."""
        return self.code == PRECONDITION_FAILED and "ack" in self.text and "timed out" in self.text
