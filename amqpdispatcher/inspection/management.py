"""Unacked messages, which AMQP does not tell: from RabbitMQ's management HTTP API, at the URL
given, else one derived from RABBITMQ_URL. It is a plugin that may be off: then the numbers are
unknown, with a note saying why and how to get them."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

from ..errors import ConfigurationError
from ..url import Target
from .fetch import Unreachable, get, http_url_problem
from .queues import QueueRow

MANAGEMENT_URL = "RABBITMQ_MANAGEMENT_URL"
MANAGEMENT_PORT = 15672


class ManagementURLError(ConfigurationError):
    """RABBITMQ_MANAGEMENT_URL cannot be used."""


@dataclass(frozen=True)
class ManagementAPI:
    base: str  # scheme://host:port[/prefix], without credentials: shown in the note
    username: str
    password: str = field(repr=False)
    vhost: str

    def queue_url(self, queue: str) -> str:
        return f"{self.base}/api/queues/{quote(self.vhost, safe='')}/{quote(queue, safe='')}"

    def headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}


def management_api(given: str | None, target: Target) -> ManagementAPI:
    """The API at `given` (--management-url), else at $RABBITMQ_MANAGEMENT_URL, else on the
    host of `target` (the first of RABBITMQ_URL) at port 15672; with the credentials of the
    URL, else of `target`, and `target`'s vhost."""
    url = given or os.environ.get(MANAGEMENT_URL)
    if not url:
        host = f"[{target.host}]" if ":" in target.host else target.host
        return ManagementAPI(
            f"http://{host}:{MANAGEMENT_PORT}", target.username, target.password, target.vhost
        )
    problem = http_url_problem(url)
    if problem:  # only the environment's: --management-url is checked by argparse
        raise ManagementURLError(f"{MANAGEMENT_URL}: {problem}")
    parts = urlsplit(url)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = f":{parts.port}" if parts.port else ""
    base = f"{parts.scheme}://{host}{port}{parts.path.rstrip('/')}"
    username = unquote(parts.username) if parts.username else target.username
    password = unquote(parts.password) if parts.password else target.password
    return ManagementAPI(base, username, password, target.vhost)


def read_unacked(api: ManagementAPI, queues: list[QueueRow]) -> str | None:
    """Fill in `unacked` of each queue that exists; None, or the note saying why they stay
    unknown. The first failure ends the asking: one note, not a wait per queue."""
    for queue in queues:
        if queue.absent is not None:
            continue
        try:
            queue.unacked = _unacked(api, queue.name)
        except Unreachable as exc:
            return (
                f"unacked unknown: the management API at {api.base} cannot be used: {exc}; "
                "enable the rabbitmq_management plugin, or name the API with --management-url "
                f"or {MANAGEMENT_URL}"
            )
    return None


def _unacked(api: ManagementAPI, queue: str) -> int | None:
    status, body = get(api.queue_url(queue), api.headers())
    if status != 200:  # 404 too: the queue exists, so this is not its broker's API
        raise Unreachable(f"HTTP {status} for queue '{queue}'")
    try:
        value = json.loads(body).get("messages_unacknowledged")
    except (ValueError, AttributeError):
        raise Unreachable("its answer is not the API's JSON") from None
    return value if isinstance(value, int) else None  # none until the broker's first statistics
