"""The transport: every pika call of the daemon lives in this package, and nothing outside it
imports pika.

pika's GeventConnection runs its callbacks in gevent's hub greenlet, where nothing may block.
Callbacks here only set results and hand deliveries on; the blocking wrappers (`Channel._rpc`)
are for ordinary greenlets, which wait on those results while the hub runs the I/O.
"""

from .channel import HEADER_FRAME_OVERHEAD, Channel
from .connection import Connection, connect, connection_name
from .delivery import Delivery, delivery_of
from .errors import (
    NOT_FOUND,
    AMQPError,
    ChannelClosed,
    ConnectionFailed,
    PublishError,
    PublishRefused,
    Refused,
)
from .outgoing import Outgoing, header_size, outgoing, sendable
from .server import ServerInfo

__all__ = [
    "HEADER_FRAME_OVERHEAD",
    "NOT_FOUND",
    "AMQPError",
    "Channel",
    "ChannelClosed",
    "Connection",
    "ConnectionFailed",
    "Delivery",
    "Outgoing",
    "PublishError",
    "PublishRefused",
    "Refused",
    "ServerInfo",
    "connect",
    "connection_name",
    "delivery_of",
    "header_size",
    "outgoing",
    "sendable",
]
