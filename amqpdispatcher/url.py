"""RABBITMQ_URL parsing: one URL naming several brokers, as the RabbitMQ URI spec extends it."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote

DEFAULT_URL = "amqp://guest:guest@localhost:5672/"
DEFAULT_PORTS = {"amqp": 5672, "amqps": 5671}
TLS_KEYS = ("cacertfile", "certfile", "keyfile", "verify", "server_name_indication")
QUERY_KEYS = ("heartbeat", "connection_timeout", *TLS_KEYS)


class URLError(ValueError):
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
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in DEFAULT_PORTS:
        raise URLError(
            f"RABBITMQ_URL: expected amqp[s]://USER:PASS@HOST[:PORT]/VHOST, got {mask(url)!r}"
        )
    netloc, _, path_and_query = rest.partition("/")
    path, _, query = path_and_query.partition("?")
    if "?" in netloc:
        netloc, _, query = netloc.partition("?")
    userinfo, _, hosts = netloc.rpartition("@")
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
        for host, port in _parse_hosts(hosts, url, DEFAULT_PORTS[scheme])
    ]


def shuffled(targets: list[Target]) -> list[Target]:
    """The targets in random order, so that a fleet of daemons spreads over the cluster."""
    return random.sample(targets, len(targets))


def mask(url: str) -> str:
    """`url` with the password replaced by ***, for logs and error messages."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, hosts = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return f"{scheme}{sep}{userinfo.partition(':')[0]}:***@{hosts}"


def _parse_hosts(hosts: str, url: str, default_port: int) -> list[tuple[str, int]]:
    parsed = []
    for entry in hosts.split(","):
        host, port = _split_host_port(entry.strip(), url)
        parsed.append((unquote(host), port or default_port))
    return parsed


def _split_host_port(entry: str, url: str) -> tuple[str, int | None]:
    if entry.startswith("["):
        host, _, port = entry[1:].partition("]")
        port = port.removeprefix(":")
    else:
        host, _, port = entry.partition(":")
    if not host:
        raise URLError(f"RABBITMQ_URL: empty host in {mask(url)!r}")
    if not port:
        return host, None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise URLError(f"RABBITMQ_URL: invalid port {port!r} for host {host!r}")
    return host, int(port)


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
            raise URLError(f"RABBITMQ_URL: unsupported query parameter {key!r} ({supported})")
    return options


def _tls(options: dict, scheme: str) -> TLS | None:
    given = {key: options[key] for key in TLS_KEYS if key in options}
    if scheme == "amqp":
        if given:
            raise URLError(f"RABBITMQ_URL: {', '.join(given)} needs an amqps:// URL")
        return None
    verify = given.pop("verify", "verify_peer")
    if verify not in ("verify_peer", "verify_none"):
        raise URLError(f"RABBITMQ_URL verify: expected verify_peer or verify_none, got {verify!r}")
    for key in ("cacertfile", "certfile", "keyfile"):
        if key in given and not os.path.isfile(given[key]):
            raise URLError(f"RABBITMQ_URL {key}: no such file: {given[key]}")
    return TLS(verify=verify == "verify_peer", **given)


def _parse_heartbeat(value: str, setting: str) -> int | None:
    if value in ("", "None"):
        return None
    if not value.isdigit():
        raise URLError(f"{setting}: expected whole seconds >= 0 or None, got {value!r}")
    return int(value)


def _parse_milliseconds(value: str, setting: str) -> int:
    if not value.isdigit() or int(value) == 0:
        raise URLError(f"{setting}: expected whole milliseconds > 0, got {value!r}")
    return int(value)
