"""The `replay` command: messages archived after failing go back to their work queue, one at a
time, each acked in the archive only once the broker has confirmed its copy."""

from __future__ import annotations

import argparse
import logging
import signal
from collections.abc import Sequence
from datetime import datetime, timezone

import gevent
import gevent.event

from .archived import Archived
from .command_options import ENVIRONMENT, add_config, configured, count
from .config import Config, default_archive_queue
from .errors import EXIT_FAILURE, DispatcherError, report
from .excerpt import counted, excerpt
from .retry.headers import DEATH_HEADERS, FAILURE_HEADERS
from .transport import (
    AMQPError,
    Channel,
    ChannelClosed,
    Connection,
    Delivery,
    PublishError,
    connect,
    connection_name,
    outgoing,
)
from .url import Target, shuffled
from .where import Condition, add_where, matches

log = logging.getLogger("amqp-dispatcher")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_REMOVED = frozenset(FAILURE_HEADERS + DEATH_HEADERS)


class ReplayError(DispatcherError):
    """Stops the replay; the text says why."""


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="amqp-dispatcher replay",
        description="Move messages from the archive of a queue back to the queue, each acked in "
        "the archive once the broker has confirmed its copy; print how many.",
        epilog=ENVIRONMENT,
    )
    parser.set_defaults(start=_start)
    add_config(parser)
    parser.add_argument(
        "--queue", required=True, metavar="NAME", help="the work queue whose archive to replay"
    )
    parser.add_argument(
        "--limit",
        type=count,
        metavar="N",
        help="move at most N messages (default: all those in the archive at the start)",
    )
    add_where(parser, "move")
    return parser


def _start(args: argparse.Namespace) -> int:
    return replay(args.config, args.queue, args.limit, args.where)


def archive_queue(config: Config, queue: str) -> str:
    """The archive of `queue`: the `archive_queue` of the retry block of a consumers entry of
    `queue`, or `<queue>.archive`, the default, when no entry has one (its retry block may have
    been removed since the messages were archived)."""
    for consumer in config.consumers:
        if consumer.queue == queue and consumer.retry is not None:
            return consumer.retry.archive_queue
    return default_archive_queue(queue)


def replay(path: str, queue: str, limit: int | None = None, where: Sequence[Condition] = ()) -> int:
    """Move up to `limit` messages (all those in the archive at the start by default) for which
    every condition of `where` holds from the archive of `queue` back to it; the exit status."""
    try:
        config, targets = configured(path)
    except DispatcherError as exc:
        return report(exc, path)
    return Replay(queue, archive_queue(config, queue), limit, where).run(targets)


def without_failure(properties: dict) -> dict:
    """The properties of an archived message with its failure headers, and the broker's
    x-death ones, gone: as a copy sent back to the work queue carries them, the retry count
    starting afresh."""
    headers = {
        name: value for name, value in properties.get("headers", {}).items() if name not in _REMOVED
    }
    kept = {name: value for name, value in properties.items() if name != "headers"}
    return {**kept, "headers": headers} if headers else kept


class Replay:
    """One run of the command. A stop signal lets the message in hand finish, its copy confirmed
    and the archived one acked; a second one abandons it, and then it stays in the archive while
    its copy, if already sent, may reach the work queue too.

    A message the broker refuses for a reason of its own (a user_id the replaying user may not
    send, say: the broker closes the channel) stays in the archive, named in an ERROR, and the
    others move on: it is held unacked until the end, so that the next get finds the next
    message, and goes back to its place in the archive at the end (Channel.requeue_all). Copies
    are published on a channel of their own, which such a refusal closes alone."""

    def __init__(
        self, queue: str, archive: str, limit: int | None, where: Sequence[Condition] = ()
    ) -> None:
        self._queue = queue
        self._archive = archive
        self._limit = limit
        self._where = where
        self._moved = 0
        self._left = 0  # messages that cannot be moved, held until the end
        self._unmatched = 0  # messages for which a --where condition fails, held likewise
        self._started = False  # the archive was found: from then on the count is printed
        self._in_hand = False
        self._done = False  # it moved what it set out to move, or found the archive empty
        self._connection: Connection | None = None
        self._publishing: Channel | None = None
        self._signal: int | None = None
        self._error: Exception | None = None
        self._stopping = gevent.event.Event()
        self._abandon = gevent.event.Event()

    def run(self, targets: list[Target]) -> int:
        handlers = [  # kept referenced for the whole run: a collected handler stops watching
            gevent.signal_handler(signum, self._on_stop_signal, signum) for signum in STOP_SIGNALS
        ]
        try:
            task = gevent.spawn(self._move_all, targets)
            gevent.wait([task, self._abandon], count=1)
            task.kill()  # nothing if it has ended
        finally:
            for handler in handlers:
                handler.cancel()
        status = self._report(self._error)
        if self._started:
            moved = counted(self._moved, "message")
            left = (
                f"; left {counted(self._left, 'message')} that cannot be moved"
                if self._left
                else ""
            )
            if self._where:
                left += f"; left {counted(self._unmatched, 'message')} that did not match"
            print(f"moved {moved} from '{self._archive}' to '{self._queue}'{left}")
        return status

    def _move_all(self, targets: list[Target]) -> None:
        """Keeps the error that stops it rather than raising it, which gevent would print."""
        try:
            self._connect_and_move(targets)
        except Exception as exc:
            self._error = exc

    def _connect_and_move(self, targets: list[Target]) -> None:
        self._connection = connect(shuffled(targets), connection_name())
        try:
            channel = self._connection.channel()
            try:
                count = channel.ready_messages(self._archive)
            except ChannelClosed as exc:
                raise ReplayError(f"archive queue '{self._archive}': {exc}") from None
            self._started = True
            self._move(channel, count)
            channel.requeue_all()  # those left, back at their place
            channel.close()  # waits for the broker to have taken every ack
        finally:
            self._connection.close()

    def _move(self, channel: Channel, count: int) -> None:
        """Of the first `count` messages, for the archive may be fed while it is replayed, those
        that match, up to the limit; those that do not are held until the end."""
        now = datetime.now(timezone.utc)
        for position in range(1, count + 1):
            if self._stopping.is_set():
                return
            if self._moved == self._limit:
                break
            self._in_hand = True
            delivery = channel.get(self._archive)
            if delivery is None:
                break
            archived = Archived.of(position, delivery.properties, delivery.body)
            if matches(self._where, archived, now):
                self._move_one(channel, delivery, position)
            else:
                self._unmatched += 1
            self._in_hand = False
        self._done = True

    def _move_one(self, channel: Channel, delivery: Delivery, position: int) -> None:
        try:
            properties = without_failure(delivery.properties)
            copy = outgoing("", self._queue, delivery.body, properties, mandatory=True)
            self._publishing_channel().publish(copy).get()
        except ChannelClosed as closed:
            if not closed.code:
                raise  # with the connection
            self._leave(delivery, position, str(closed))
            return
        except (TypeError, ValueError) as exc:
            self._leave(delivery, position, str(exc))
            return
        except PublishError as exc:  # unroutable or nacked: the work queue's doing, for all
            channel.nack(delivery.delivery_tag, requeue=True)  # a reject counts on 4.3
            raise ReplayError(f"cannot move {_named(delivery)} to '{self._queue}': {exc}") from None
        channel.ack(delivery.delivery_tag)
        self._moved += 1

    def _leave(self, delivery: Delivery, position: int, reason: str) -> None:
        self._left += 1
        log.error(
            "%s, at position %d in '%s', cannot be moved to '%s': %s; left in the archive",
            _named(delivery),
            position,
            self._archive,
            self._queue,
            reason,
        )

    def _publishing_channel(self) -> Channel:
        if self._publishing is None or not self._publishing.is_open:
            self._publishing = self._connection.channel()
            self._publishing.enable_confirms()
        return self._publishing

    def _on_stop_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if self._signal is None:
            self._signal = signum
            self._stopping.set()
            if self._in_hand:
                log.warning("%s received; stopping after the message in hand", name)
                return
            log.warning("%s received; stopping", name)
        else:
            log.warning("%s received again; the message in hand stays in the archive", name)
        self._abandon.set()

    def _report(self, error: Exception | None) -> int:
        """Log what stopped the replay, if anything did; the exit status."""
        if error is None:
            if not self._done:  # a signal stopped it: the shell's status for that, 130 for SIGINT
                return 128 + self._signal
            return EXIT_FAILURE if self._left else 0
        if not isinstance(error, AMQPError | ReplayError):
            raise error
        lost = self._connection is not None and self._connection.closed.value
        if lost:
            why = f"lost the connection to {self._connection.target}: {lost}"
        elif isinstance(error, ChannelClosed):
            why = f"the broker closed the channel: {error}"
        else:
            why = str(error)
        if self._started:
            why += f"; stopped after moving {counted(self._moved, 'message')}, the rest stays in "
            why += f"'{self._archive}'"
        log.error("%s", why)
        return error.exit_status


def _named(delivery: Delivery) -> str:
    message_id = delivery.properties.get("message_id")
    return f"message {excerpt(message_id)}" if message_id else "a message without message_id"
