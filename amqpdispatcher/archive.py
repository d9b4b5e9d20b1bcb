"""The `archive` command: list, show or purge the messages archived from a queue. Reading
removes nothing: each message is got (basic.get) and held unacked, and all go back to the
archive with one basic.nack at the end (docs/cli.rst, "Inspecting the archive")."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import datetime, timezone

from .archived import Archived
from .command_options import ENVIRONMENT, add_config, configured, count
from .config import Config
from .config.broker_versions import QUORUM_DELIVERY_LIMIT
from .errors import DispatcherError, report
from .excerpt import counted, first_line
from .message_dump import dump
from .replay import archive_queue
from .transport import (
    AMQPError,
    Channel,
    ChannelClosed,
    Delivery,
    ServerInfo,
    connect,
    connection_name,
)
from .url import shuffled
from .where import Condition, add_where, matches

log = logging.getLogger("amqp-dispatcher")

EXIT_USAGE = 2  # argparse's
DEFAULT_LIMIT = 20
# The RabbitMQ versions whose quorum queues count every message put back towards the delivery
# limit, a nack as much as a closing channel: from 4.0, which set a default limit, to 4.3.
_COUNTING_RETURNS = ((4, 0), (4, 3))


class ArchiveError(DispatcherError):
    """The command cannot do what it was asked; the text says why."""


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="amqp-dispatcher archive",
        description="List, show or purge the messages archived from a queue.",
        epilog=ENVIRONMENT,
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = _action(
        actions, "list", _list, "one line per archived message, leaving them in the archive"
    )
    listing.add_argument(
        "--limit",
        type=count,
        default=DEFAULT_LIMIT,
        metavar="N",
        help="list at most N messages (default: %(default)s)",
    )
    add_where(listing, "list")
    listing.add_argument("--json", action="store_true", help="one JSON object per message")
    showing = _action(actions, "show", _show, "one archived message in full, left in the archive")
    which = showing.add_mutually_exclusive_group(required=True)
    which.add_argument("--position", type=count, metavar="N", help="the Nth in the archive")
    which.add_argument("--message-id", metavar="ID", help="the first with this message_id")
    showing.add_argument("--hex", action="store_true", help="the body as a hex dump, always")
    purging = _action(actions, "purge", _purge, "remove archived messages for good")
    purging.add_argument("--yes", action="store_true", help="remove them: required")
    add_where(purging, "remove")
    return parser


def _action(
    actions: argparse._SubParsersAction, name: str, start: Callable, summary: str
) -> argparse.ArgumentParser:
    action = actions.add_parser(
        name,
        prog=f"amqp-dispatcher archive {name}",
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
        epilog=ENVIRONMENT,
    )
    action.set_defaults(start=start)
    add_config(action)
    action.add_argument(
        "--queue", required=True, metavar="NAME", help="the work queue whose archive to read"
    )
    return action


class Reading:
    """The archive on a channel, and how many messages it held ready at the start."""

    def __init__(self, channel: Channel, archive: str, total: int) -> None:
        self.channel = channel
        self.archive = archive
        self.total = total

    def messages(self) -> Iterator[tuple[Archived, Delivery]]:
        """The messages held at the start, in order, each got and held unacked; fewer if the
        archive empties meanwhile."""
        for position in range(1, self.total + 1):
            delivery = self.channel.get(self.archive)
            if delivery is None:
                return
            yield Archived.of(position, delivery.properties, delivery.body), delivery

    def held(self) -> str:
        return f"the {counted(self.total, 'message')} in '{self.archive}'"


def _run(args: argparse.Namespace, act: Callable[[Reading], int]) -> int:
    """Connect, find the archive, `act` on it; every message got and not acked goes back."""
    try:
        config, targets = configured(args.config)
    except DispatcherError as exc:
        return report(exc, args.config)
    archive = archive_queue(config, args.queue)
    connection = None
    try:
        connection = connect(shuffled(targets), connection_name())
        channel = connection.channel()
        try:
            total = channel.ready_messages(archive)
        except ChannelClosed as exc:
            raise ArchiveError(f"archive queue '{archive}': {exc}") from None
        _warn_of_delivery_limit(config, args.queue, archive, connection.server)
        try:
            return act(Reading(channel, archive, total))
        finally:
            if channel.is_open:
                channel.requeue_all()
                channel.close()
    except (AMQPError, ArchiveError) as exc:
        log.error("%s", exc)
        return exc.exit_status
    finally:
        if connection is not None:
            connection.close()


def _warn_of_delivery_limit(config: Config, queue: str, archive: str, server: ServerInfo) -> None:
    """On RabbitMQ 4.0 to 4.2, a quorum archive counts each read towards its delivery limit and
    drops a message past it; the daemon sets no dead-letter exchange on archives."""
    quorum = any(
        spec.name == queue and spec.arguments.get("x-queue-type") == "quorum"
        for spec in config.queues
    )
    if quorum and server.product == "RabbitMQ" and counts_returns(server.version):
        log.warning(
            "'%s' is a quorum queue: %s counts each read of a message towards its delivery "
            "limit (%d unless set otherwise) and drops a message past it; its x-delivery-count "
            "says how often it was read",
            archive,
            server,
            QUORUM_DELIVERY_LIMIT,
        )


def counts_returns(version: str) -> bool:
    parts = version.split(".")[:2]
    if not all(part.isdigit() for part in parts) or len(parts) < 2:
        return False
    low, high = _COUNTING_RETURNS
    return low <= (int(parts[0]), int(parts[1])) < high


def _list(args: argparse.Namespace) -> int:
    return _run(args, lambda reading: _print_list(reading, args.limit, args.where, args.json))


def _print_list(reading: Reading, limit: int, where: list[Condition], as_json: bool) -> int:
    """One line per message; then the count, on stderr with `as_json` so that stdout is JSON."""
    now = datetime.now(timezone.utc)
    listed = 0
    for message, _delivery in reading.messages():
        if not matches(where, message, now):
            continue
        listed += 1
        print(_json(message) if as_json else _line(message))
        if listed == limit:
            break
    print(f"listed {listed} of {reading.held()}", file=sys.stderr if as_json else sys.stdout)
    return 0


def _line(message: Archived) -> str:
    """`3 m-17 KeyError: 'sku' (retries 4, failed 2026-11-24T18:50:00.123456+00:00, 120
    bytes)`, and how often a quorum queue delivered it before."""
    details = [
        f"retries {_shown(message.retry_count)}",
        f"failed {_shown(message.failed_at)}",
        counted(message.size, "byte"),
    ]
    if message.delivery_count is not None:
        details.append(f"x-delivery-count {message.delivery_count}")
    what = _shown(message.exception_type)
    if message.exception_message is not None:
        what += f": {first_line(message.exception_message)}"
    return f"{message.position} {_shown(message.message_id)} {what} ({', '.join(details)})"


def _json(message: Archived) -> str:
    fields = asdict(message)
    del fields["failed"]
    return json.dumps(fields, ensure_ascii=False)


def _shown(value: object) -> str:
    return "-" if value is None else str(value)


def _show(args: argparse.Namespace) -> int:
    return _run(args, lambda reading: _print_one(reading, args.position, args.message_id, args.hex))


def _print_one(
    reading: Reading, position: int | None, message_id: str | None, hex_only: bool
) -> int:
    for message, delivery in reading.messages():
        if message.position == position or (
            message_id is not None and message.message_id == message_id
        ):
            print(dump(message.position, delivery, hex_only), end="")
            return 0
    which = f"at position {position}" if position is not None else f"with id {message_id!r}"
    raise ArchiveError(f"no message {which} among {reading.held()}")


def _purge(args: argparse.Namespace) -> int:
    return _run(args, lambda reading: _remove(reading, args.where, args.yes))


def _remove(reading: Reading, where: list[Condition], confirmed: bool) -> int:
    """Without `where`, queue.purge; with it, an ack for each message that matches. Without
    `confirmed`, only a count of what would go."""
    if not confirmed:
        going = _matching(reading, where) if where else reading.total
        log.error(
            "would remove %s from '%s'; add --yes to remove them",
            counted(going, "message"),
            reading.archive,
        )
        return EXIT_USAGE
    if not where:
        removed = reading.channel.purge(reading.archive)
        print(f"removed {counted(removed, 'message')} from '{reading.archive}'")
        return 0
    now = datetime.now(timezone.utc)
    removed = left = 0
    for message, delivery in reading.messages():
        if matches(where, message, now):
            reading.channel.ack(delivery.delivery_tag)
            removed += 1
        else:
            left += 1
    print(
        f"removed {counted(removed, 'message')} from '{reading.archive}'; "
        f"left {counted(left, 'message')} that did not match"
    )
    return 0


def _matching(reading: Reading, where: list[Condition]) -> int:
    now = datetime.now(timezone.utc)
    return sum(matches(where, message, now) for message, _delivery in reading.messages())
