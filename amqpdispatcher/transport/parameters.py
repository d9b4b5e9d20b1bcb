"""pika's connection parameters for a target, TLS included."""

from __future__ import annotations

import ssl

import pika

from ..url import TLS, Target


def connection_parameters(target: Target, name: str) -> pika.ConnectionParameters:
    timeouts = {}
    if target.connection_timeout is not None:
        timeouts = {"socket_timeout": target.connection_timeout}
        timeouts["stack_timeout"] = target.connection_timeout
    if target.tls is not None:
        timeouts["ssl_options"] = _ssl_options(target.tls, target.host)
    return pika.ConnectionParameters(
        host=target.host,
        port=target.port,
        virtual_host=target.vhost,
        credentials=pika.PlainCredentials(target.username, target.password),
        heartbeat=target.heartbeat,
        connection_attempts=1,
        client_properties={"connection_name": name},
        **timeouts,
    )


def _ssl_options(tls: TLS, host: str) -> pika.SSLOptions:
    context = ssl.create_default_context(cafile=tls.cacertfile)
    if tls.certfile:
        context.load_cert_chain(tls.certfile, tls.keyfile)
    if not tls.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return pika.SSLOptions(context, tls.server_name_indication or host)
