"""RABBITMQ_URL parsing: one URL naming several brokers, as the RabbitMQ URI spec extends it."""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote

from .errors import ConfigurationError
from .excerpt import excerpt
from .limits import MAX_PORT

DEFAULT_URL = "amqp://guest:guest@localhost:5672/"
DEFAULT_PORTS = {"amqp": 5672, "amqps": 5671}
TLS_KEYS = ("cacertfile", "certfile", "keyfile", "verify", "server_name_indication")
QUERY_KEYS = ("heartbeat", "connection_timeout", *TLS_KEYS)
MAX_HEARTBEAT = 65535  # seconds; AMQP carries it in 16 bits
MAX_CONNECTION_TIMEOUT = 3_600_000  # milliseconds: one hour
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


class URLError(ConfigurationError, ValueError):
    """A RABBITMQ_URL or RABBITMQ_HEARTBEAT that cannot be used; the text names the setting."""


@dataclass(frozen=True)
class TLS:
    """amqps:// settings; with no cacertfile the system's CA store is used."""

    cacertfile: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    verify: bool = True
    server_name_indication: str | None = None


@dataclass(frozen=True)
class Target:
    """One broker address with everything needed to open a connection to it."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    vhost: str
    heartbeat: int | None
    connection_timeout: float | None
    tls: TLS | None = None

    def __str__(self) -> str:
        scheme = "amqps" if self.tls else "amqp"
        host = f"[{self.host}]" if ":" in self.host else self.host
        vhost = "" if self.vhost == "/" else self.vhost
        return f"{scheme}://{self.username}:***@{host}:{self.port}/{vhost}"


def parse_url(url: str, heartbeat_override: str | None = None) -> list[Target]:
    """Every host of `url`, in the order written; `heartbeat_override` is RABBITMQ_HEARTBEAT."""
    scheme, authority, path, query = _split(url)
    userinfo, _, hosts = authority.rpartition("@")
    username, _, password = userinfo.partition(":")
    options = _parse_query(query)
    if heartbeat_override not in (None, ""):
        options["heartbeat"] = _parse_heartbeat(heartbeat_override, "RABBITMQ_HEARTBEAT")
    tls = _tls(options, scheme)
    return [
        Target(
            host=host,
            port=port,
            username=unquote(username) or "guest",
            password=unquote(password) or "guest",
            vhost=unquote(path) or "/",
            heartbeat=options.get("heartbeat"),
            connection_timeout=options.get("connection_timeout"),
            tls=tls,
        )
        for host, port in _parse_hosts(hosts, DEFAULT_PORTS[scheme])
    ]


def shuffled(targets: list[Target], last: Target | None = None) -> list[Target]:
    """The targets in random order, so that a fleet of daemons spreads over the cluster; but
    `last`, whose connection was just lost, after the others: a node that hangs would hold a
    reconnection for its whole connection timeout."""
    order = random.sample(targets, len(targets))
    return sorted(order, key=lambda target: target == last)


def mask(url: str) -> str:
    """`url` with the password replaced by ***, for logs and error messages. As for parse_url,
    the user info is everything before the last '@'; that also covers a password whose '/', '?'
    or '#' was not percent-encoded, which parse_url refuses."""
    scheme, sep, rest = url.partition("://")
    if not sep or not _SCHEME.fullmatch(scheme):
        scheme, rest = "", url
    userinfo, at, hosts = rest.rpartition("@")
    username, colon, _ = userinfo.partition(":")
    if not at or not colon:
        return url
    return f"{scheme}{sep}{username}:***@{hosts}"


def _split(url: str) -> tuple[str, str, str, str]:
    """The scheme, authority (user info and hosts), path and query of `url`. The authority ends
    at the first '/', '?' or '#'; an '@' after that could be the end of a password holding one
    of them, so it is refused rather than guessed at. No error quotes the URL, which holds the
    password where it is, and maybe elsewhere when malformed."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in DEFAULT_PORTS:
        got = f"the scheme {excerpt(scheme)}" if sep else "no '://'"
        raise URLError(f"RABBITMQ_URL: expected amqp[s]://USER:PASS@HOST[:PORT]/VHOST, got {got}")
    end = next((i for i, char in enumerate(rest) if char in "/?#"), len(rest))
    authority, after = rest[:end], rest[end:]
    if "@" in after:
        raise URLError(
            "RABBITMQ_URL: '@' after the host: percent-encode '/', '?', '#' and '@' in the user "
            "name and password (%2F, %3F, %23, %40), and '@' in the vhost and query (%40)"
        )
    if "#" in after:
        raise URLError("RABBITMQ_URL: '#' after the host: percent-encode it as %23")
    path, _, query = after.removeprefix("/").partition("?")
    return scheme, authority, path, query


def _parse_hosts(hosts: str, default_port: int) -> list[tuple[str, int]]:
    parsed = []
    for entry in hosts.split(","):
        host, port = _split_host_port(entry.strip())
        parsed.append((unquote(host), port or default_port))
    return parsed


def _split_host_port(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):
        host, _, port = entry[1:].partition("]")
        port = port.removeprefix(":")
    else:
        host, _, port = entry.partition(":")
    if not host:
        raise URLError("RABBITMQ_URL: empty host in the list of hosts")
    if not port:
        return host, None
    number = _whole_number(port, MAX_PORT)
    if not number:
        # Only digits are shown: what follows a ':' may be a password whose '@HOST' is missing.
        shown = f" {excerpt(port)}" if port.isascii() and port.isdigit() else ""
        raise URLError(
            f"RABBITMQ_URL: invalid port{shown} for host {excerpt(host)}: expected a number "
            f"from 1 to {MAX_PORT}"
        )
    return host, number


def _parse_query(query: str) -> dict:
    options: dict = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "heartbeat":
            options[key] = _parse_heartbeat(value, "RABBITMQ_URL heartbeat")
        elif key == "connection_timeout":
            options[key] = _parse_milliseconds(value, "RABBITMQ_URL connection_timeout") / 1000
        elif key in TLS_KEYS:
            options[key] = value
        else:
            supported = ", ".join(QUERY_KEYS)
            raise URLError(
                f"RABBITMQ_URL: unsupported query parameter {excerpt(key)} ({supported})"
            )
    return options


def _tls(options: dict, scheme: str) -> TLS | None:
    given = {key: options[key] for key in TLS_KEYS if key in options}
    if scheme == "amqp":
        if given:
            raise URLError(f"RABBITMQ_URL: {', '.join(given)} needs an amqps:// URL")
        return None
    verify = given.pop("verify", "verify_peer")
    if verify not in ("verify_peer", "verify_none"):
        raise URLError(
            f"RABBITMQ_URL verify: expected verify_peer or verify_none, got {excerpt(verify)}"
        )
    for key in ("cacertfile", "certfile", "keyfile"):
        if key in given and not os.path.isfile(given[key]):
            raise URLError(f"RABBITMQ_URL {key}: no such file: {given[key]}")
    return TLS(verify=verify == "verify_peer", **given)


def _parse_heartbeat(value: str, setting: str) -> int | None:
    if value in ("", "None"):
        return None
    seconds = _whole_number(value, MAX_HEARTBEAT)
    if seconds is None:
        raise URLError(
            f"{setting}: expected whole seconds from 0 to {MAX_HEARTBEAT} or None, "
            f"got {excerpt(value)}"
        )
    return seconds


def _parse_milliseconds(value: str, setting: str) -> int:
    milliseconds = _whole_number(value, MAX_CONNECTION_TIMEOUT)
    if not milliseconds:
        raise URLError(
            f"{setting}: expected whole milliseconds from 1 to {MAX_CONNECTION_TIMEOUT}, "
            f"got {excerpt(value)}"
        )
    return milliseconds


def _whole_number(text: str, maximum: int) -> int | None:
    """`text` as a number from 0 to `maximum`, or None. ASCII digits only: str.isdigit also
    takes '²', which int() refuses, and '٣', which it reads as 3."""
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > len(str(maximum)):
        return None
    number = int(text)
    return number if number <= maximum else None
