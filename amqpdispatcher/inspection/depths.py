"""How many messages each queue holds ready and how many consumers it has, as the broker
answers a passive declare: read-only, nothing is declared nor changed."""

from __future__ import annotations

from ..transport import NOT_FOUND, ChannelClosed, connect, connection_name
from ..url import Target, shuffled
from .queues import QueueRow

MISSING = "does not exist"


def read_depths(targets: list[Target], queues: list[QueueRow]) -> None:
    """Fill in `ready` and `consumers` of each of `queues`, or `absent` for those the broker
    cannot tell of. A passive declare of a missing queue closes its channel: the next queue is
    asked on a new one. A broker that cannot be reached raises the transport's error."""
    connection = connect(shuffled(targets), connection_name())
    try:
        channel = connection.channel()
        for queue in queues:
            try:
                queue.ready, queue.consumers = channel.queue_counts(queue.name)
            except ChannelClosed as closed:
                if not closed.code:
                    raise  # with the connection
                queue.absent = MISSING if closed.code == NOT_FOUND else str(closed)
                channel = connection.channel()
        channel.close()
    finally:
        connection.close()
