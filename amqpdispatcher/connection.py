"""The transport: every pika call of the daemon lives in this module.

pika's GeventConnection runs its callbacks in gevent's hub greenlet, where nothing may block.
Callbacks here only set results and hand deliveries on; the blocking wrappers (`_rpc`) are for
ordinary greenlets, which wait on those results while the hub runs the I/O.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import ssl
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import NamedTuple

import gevent.event
import gevent.lock
import pika
import pika.data
import pika.exceptions
from pika.adapters.gevent_connection import GeventConnection
from pika.adapters.utils.connection_workflow import (
    AMQPConnectionWorkflowFailed,
    AMQPConnectorPhaseErrorBase,
    AMQPConnectorStackTimeout,
)
from pika.adapters.utils.io_services_utils import _AsyncPlaintextTransport

from .errors import DispatcherError
from .excerpt import excerpt
from .url import TLS, Target

log = logging.getLogger("amqp-dispatcher.connection")

CLOSE_TIMEOUT = 3.0
RECV_BYTES = 65536
MAX_SHORTSTR = 255  # bytes, AMQP's limit for names and most properties
MAX_EXPIRATION = 315_360_000_000  # ten years in milliseconds, RabbitMQ's limit
HEADER_FRAME_OVERHEAD = 20  # frame header and end, class id, weight and body size

PROPERTY_NAMES = (
    "content_type",
    "content_encoding",
    "headers",
    "delivery_mode",
    "priority",
    "correlation_id",
    "reply_to",
    "expiration",
    "message_id",
    "timestamp",
    "type",
    "user_id",
    "app_id",
    "cluster_id",
)
_PROPERTY_SET = frozenset(PROPERTY_NAMES)


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


class ChannelClosed(AMQPError):
    """The channel is closed. `code` and `text` are the broker's reply when the broker closed
    it for an error; code 0 means that it was closed by the client or with its connection."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{text} ({code})" if code else text)
        self.code = code
        self.text = text


class Delivery:
    """One message as the broker delivered it. pika's objects stay inside; the properties
    become a dict only when asked for, which most consumers never do."""

    __slots__ = ("body", "_method", "_raw_properties", "_properties")

    def __init__(self, method: pika.spec.Basic.Deliver, properties, body: bytes) -> None:
        self.body = body
        self._method = method
        self._raw_properties = properties
        self._properties: dict | None = None

    @property
    def delivery_tag(self) -> int:
        return self._method.delivery_tag

    @property
    def redelivered(self) -> bool:
        return self._method.redelivered

    @property
    def exchange(self) -> str:
        return self._method.exchange

    @property
    def routing_key(self) -> str:
        return self._method.routing_key

    @property
    def consumer_tag(self) -> str:
        return self._method.consumer_tag

    @property
    def properties(self) -> dict:
        if self._properties is None:
            self._properties = _properties_dict(self._raw_properties)
        return self._properties


class Outgoing(NamedTuple):
    """A message checked against what AMQP carries and the broker accepts, ready to publish,
    and to publish again. `properties_size` is the encoded size of properties with headers; 0
    for those without, which fit the smallest frame AMQP allows."""

    exchange: str
    routing_key: str
    body: bytes
    properties: pika.BasicProperties
    mandatory: bool
    properties_size: int


def outgoing(
    exchange: str,
    routing_key: str,
    body: bytes | str,
    properties: dict,
    mandatory: bool = False,
) -> Outgoing:
    """Check a message before anything is sent: a property the broker refuses would close the
    channel. Raises TypeError or ValueError naming the argument or property at fault. A str
    body is encoded as UTF-8."""
    _check_shortstr("exchange", exchange)
    _check_shortstr("routing_key", routing_key)
    basic = _basic_properties(properties) if properties else _NO_PROPERTIES
    return Outgoing(exchange, routing_key, _body(body), basic, mandatory, _properties_size(basic))


def connection_name() -> str:
    """HOSTNAME-PID-RANDOM: tells operators, in the management UI, where a connection comes from."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def connect(targets: Iterable[Target], name: str) -> Connection:
    """Open a connection to the first target that answers, logging each one that does not."""
    failures = []
    for target in targets:
        try:
            return Connection.open(target, name)
        except ConnectionFailed as exc:
            log.warning("cannot connect to %s: %s", target, exc)
            failures.append(f"{target}: {exc}")
    raise ConnectionFailed("no broker reachable (" + "; ".join(failures) + ")")


class Connection:
    def __init__(self, target: Target) -> None:
        self.target = target
        self.closed: gevent.event.AsyncResult = gevent.event.AsyncResult()
        self._pika: GeventConnection | None = None

    @classmethod
    def open(cls, target: Target, name: str) -> Connection:
        connection = cls(target)
        opened = gevent.event.AsyncResult()
        try:
            parameters = _parameters(target, name)
        except (ssl.SSLError, OSError) as exc:
            raise Refused(f"TLS settings of RABBITMQ_URL: {exc}") from None
        connection._pika = GeventConnection(
            parameters,
            on_open_callback=opened.set,
            on_open_error_callback=lambda _conn, exc: opened.set_exception(_open_error(exc)),
            on_close_callback=connection._on_close,
        )
        opened.get()
        _tune_transport(connection._pika)
        log.info("connected to %s as %s", target, name)
        return connection

    @property
    def is_open(self) -> bool:
        return not self.closed.ready()

    def channel(self) -> Channel:
        opened = gevent.event.AsyncResult()
        try:
            pika_channel = self._pika.channel(on_open_callback=opened.set)
        except pika.exceptions.AMQPError as exc:
            raise ConnectionFailed(_describe(exc)) from None
        channel = Channel(pika_channel)
        channel.wait(opened)
        return channel

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Close and wait for the broker's close-ok, unless it does not come in time (a dead
        network): then give up on it."""
        if not self.closed.ready() and not self._pika.is_closing:
            self._pika.close()
        self.closed.wait(timeout)
        if not self.closed.ready():
            log.warning("no reply to closing the connection to %s; leaving it", self.target)

    def _on_close(self, _conn: GeventConnection, reason: BaseException) -> None:
        if isinstance(reason, pika.exceptions.ConnectionClosedByClient):
            self.closed.set(None)
        else:
            self.closed.set(ConnectionFailed(_describe(reason)))


class Channel:
    def __init__(self, pika_channel: pika.channel.Channel) -> None:
        self._pika = pika_channel
        self._waiting: set[gevent.event.AsyncResult] = set()
        self.closed: gevent.event.AsyncResult = gevent.event.AsyncResult()
        self._confirms: _Confirms | None = None
        self._on_cancelled: Callable[[], None] = lambda: None
        self._max_properties_size = pika_channel.connection.params.frame_max - HEADER_FRAME_OVERHEAD
        pika_channel.add_on_close_callback(self._on_close)
        pika_channel.add_on_cancel_callback(lambda _frame: self._on_cancelled())

    @property
    def is_open(self) -> bool:
        return not self.closed.ready()

    def enable_confirms(self) -> None:
        """Publisher confirms: from now on `publish` returns a result the broker settles."""
        self._confirms = _Confirms()
        self._pika.add_on_return_callback(self._confirms.on_return)
        self._rpc(self._pika.confirm_delivery, ack_nack_callback=self._confirms.on_confirm)

    def declare_exchange(self, name: str, exchange_type: str, **flags) -> None:
        self._rpc(self._pika.exchange_declare, exchange=name, exchange_type=exchange_type, **flags)

    def declare_queue(self, name: str, **flags) -> None:
        self._rpc(self._pika.queue_declare, queue=name, **flags)

    def bind_queue(self, queue: str, exchange: str, routing_key: str, arguments: dict) -> None:
        self._rpc(
            self._pika.queue_bind,
            queue=queue,
            exchange=exchange,
            routing_key=routing_key,
            arguments=arguments,
        )

    def qos(self, prefetch_count: int) -> None:
        self._rpc(self._pika.basic_qos, prefetch_count=prefetch_count)

    def consume(
        self,
        queue: str,
        on_delivery: Callable[[Delivery], None],
        on_cancelled: Callable[[], None],
    ) -> str:
        """Subscribe; both callbacks run in the hub and must not block."""

        def deliver(_channel, method, properties, body: bytes) -> None:
            on_delivery(Delivery(method, properties, body))

        self._on_cancelled = on_cancelled
        frame = self._rpc(self._pika.basic_consume, queue=queue, on_message_callback=deliver)
        return frame.method.consumer_tag

    def cancel(self, consumer_tag: str) -> None:
        """Cancel a subscription without waiting for the broker's reply, which a dead network
        would never send. pika requeues what still arrives for it."""
        if consumer_tag in self._pika.consumer_tags:
            self._call(self._pika.basic_cancel, consumer_tag=consumer_tag)

    def ack(self, delivery_tag: int, multiple: bool = False) -> None:
        self._call(self._pika.basic_ack, delivery_tag=delivery_tag, multiple=multiple)

    def nack(self, delivery_tag: int, requeue: bool) -> None:
        self._call(self._pika.basic_nack, delivery_tag=delivery_tag, requeue=requeue)

    def reject(self, delivery_tag: int, requeue: bool) -> None:
        self._call(self._pika.basic_reject, delivery_tag=delivery_tag, requeue=requeue)

    def publish(self, message: Outgoing) -> gevent.event.AsyncResult | None:
        """Send a message. In confirm mode, the result is settled when the broker confirms it,
        or fails: with PublishError if the broker nacks or returns it, with ChannelClosed if the
        channel closes first. Call from a greenlet, since a mandatory publish waits for the one
        before it."""
        if message.properties_size > self._max_properties_size:
            raise ValueError(
                f"headers: too large: the properties take {message.properties_size} bytes, "
                f"the connection's frame size allows {self._max_properties_size}"
            )
        serialised = self._confirms is not None and message.mandatory
        if serialised:
            self._confirms.mandatory.acquire()
        try:
            self._call(
                self._pika.basic_publish,
                exchange=message.exchange,
                routing_key=message.routing_key,
                body=message.body,
                properties=message.properties,
                mandatory=message.mandatory,
            )
        except BaseException:
            if serialised:  # the next mandatory publish must not wait for this one forever
                self._confirms.mandatory.release()
            raise
        return None if self._confirms is None else self._confirms.sent(message.mandatory)

    def close(self) -> None:
        if self._pika.is_open:
            self._pika.close()
        self.closed.wait()

    def wait(self, result: gevent.event.AsyncResult):
        """Block this greenlet on `result`, failing with ChannelClosed if the channel closes."""
        if self.closed.ready():
            raise self.closed.get()
        self._waiting.add(result)
        try:
            return result.get()
        finally:
            self._waiting.discard(result)

    def _rpc(self, method: Callable, **kwargs):
        result = gevent.event.AsyncResult()
        self._call(method, callback=result.set, **kwargs)
        return self.wait(result)

    def _call(self, method: Callable, **kwargs):
        try:
            return method(**kwargs)
        except pika.exceptions.ChannelWrongStateError:
            raise self.closed.get() if self.closed.ready() else ChannelClosed(0, "closed") from None

    def _on_close(self, _channel, reason: BaseException) -> None:
        if isinstance(reason, pika.exceptions.ChannelClosedByBroker):
            error = ChannelClosed(reason.reply_code, reason.reply_text)
        elif isinstance(reason, pika.exceptions.ChannelClosedByClient):
            error = ChannelClosed(0, reason.reply_text)
        else:
            error = ChannelClosed(0, _describe(reason))
        self.closed.set(error)
        for result in list(self._waiting):
            result.set_exception(error)
        if self._confirms is not None:
            self._confirms.fail_all(error)


class _Confirms:
    """Publisher-confirm bookkeeping for one channel. The broker numbers published messages
    1, 2, 3... and acks or nacks them, possibly several at once (`multiple`). A basic.return
    names no number, so at most one mandatory publish is in flight: a return is its."""

    def __init__(self) -> None:
        self.pending: dict[int, gevent.event.AsyncResult] = {}
        self.mandatory = gevent.lock.Semaphore()
        self._numbers = itertools.count(1)
        self._mandatory_number: int | None = None
        self._returned: str | None = None

    def sent(self, mandatory: bool) -> gevent.event.AsyncResult:
        number = next(self._numbers)
        result = gevent.event.AsyncResult()
        self.pending[number] = result
        if mandatory:
            self._mandatory_number = number
            result.rawlink(lambda _result: self.mandatory.release())
        return result

    def on_return(self, _channel, method, _properties, _body) -> None:
        self._returned = f"unroutable: {method.reply_text} ({method.reply_code})"

    def on_confirm(self, frame) -> None:
        method = frame.method
        last = method.delivery_tag
        numbers = (
            itertools.takewhile(lambda n: n <= last, self.pending) if method.multiple else [last]
        )
        for number in list(numbers):
            result = self.pending.pop(number, None)
            if result is None:
                continue
            if number == self._mandatory_number and self._returned:
                result.set_exception(PublishError(self._returned))
                self._mandatory_number = self._returned = None
            elif isinstance(method, pika.spec.Basic.Nack):
                result.set_exception(PublishError("the broker nacked the message"))
            else:
                result.set(None)

    def fail_all(self, error: ChannelClosed) -> None:
        for result in self.pending.values():
            result.set_exception(error)
        self.pending.clear()


def _tune_transport(pika_connection: GeventConnection) -> None:
    """Fewer system calls than pika makes by default. pika gives each frame its own send() (a
    publish is three frames): join what is buffered, once per loop turn, into one. And it reads
    in 4 KB pieces: read 64 KB at a time. This reaches into pika's plaintext transport (pinned
    below 2.0); should that change, pika goes on doing as it does."""
    transport = getattr(pika_connection, "_transport", None)
    if not isinstance(transport, _AsyncPlaintextTransport):
        return
    transport._MAX_RECV_BYTES = RECV_BYTES
    buffers, produce = transport._tx_buffers, transport._produce

    def produce_joined() -> None:
        if len(buffers) > 1:
            joined = b"".join(buffers)
            buffers.clear()
            buffers.append(joined)
        produce()

    transport._produce = produce_joined


def _parameters(target: Target, name: str) -> pika.ConnectionParameters:
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


def _check_shortstr(name: str, value, expected: str = "a str") -> bytes:
    if isinstance(value, bytes):
        encoded = value
    elif isinstance(value, str):
        encoded = _utf8(name, value)
    else:
        raise TypeError(f"{name}: expected {expected}, got {excerpt(value)}")
    if len(encoded) > MAX_SHORTSTR:
        raise ValueError(f"{name}: at most {MAX_SHORTSTR} bytes, got {len(encoded)}")
    return encoded


def _check_expiration(name: str, value) -> None:
    expected = "a str of digits (milliseconds)"
    digits = _check_shortstr(name, value, expected)
    if not digits.isdigit() or int(digits) > MAX_EXPIRATION:
        raise ValueError(
            f"{name}: expected {expected} up to {MAX_EXPIRATION}, got {excerpt(value)}"
        )


def _check_int(low: int, high: int, expected: str, name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name}: expected {expected}, got {excerpt(value)}")
    if not low <= value <= high:
        raise ValueError(f"{name}: expected {expected}, got {excerpt(value)}")


def _int_in(low: int, high: int, expected: str | None = None) -> Callable:
    return partial(_check_int, low, high, expected or f"an int from {low} to {high}")


def _check_headers(name: str, value) -> None:
    """The type only: the content is checked as it is encoded, by `_properties_size`."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name}: expected a dict, got {excerpt(value)}")


_PROPERTY_CHECKS: dict[str, Callable[[str, object], None]] = {
    **{name: _check_shortstr for name in PROPERTY_NAMES},
    "headers": _check_headers,
    "delivery_mode": _int_in(1, 2, "1 (transient) or 2 (persistent)"),
    "priority": _int_in(0, 255),
    "expiration": _check_expiration,
    "timestamp": _int_in(0, 2**64 - 1),
}
_NO_PROPERTIES = pika.BasicProperties()  # shared: pika only reads the properties it sends
_FIELD_TYPES = (str, bytes, bool, int, Decimal, datetime, type(None))


def _basic_properties(properties: dict) -> pika.BasicProperties:
    unknown = properties.keys() - _PROPERTY_SET
    if unknown:
        raise TypeError(f"unknown message properties: {', '.join(sorted(unknown))}")
    for name, value in properties.items():
        if value is not None:
            _PROPERTY_CHECKS[name](name, value)
    return pika.BasicProperties(**properties)


def _properties_size(properties: pika.BasicProperties) -> int:
    if properties.headers is None:
        return 0
    try:
        return sum(map(len, properties.encode()))
    except Exception as exc:
        _check_table("headers", properties.headers)
        raise ValueError(f"headers: cannot be encoded: {type(exc).__name__}") from None


def _check_table(where: str, table: Mapping) -> None:
    """Find what in a table AMQP cannot carry, to name it."""
    for key, value in table.items():
        _check_shortstr(f"{where}: key", key)
        _check_field(f"{where}[{excerpt(key)}]", value)


def _check_field(where: str, value) -> None:
    if isinstance(value, dict):
        _check_table(where, value)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_field(f"{where}[{index}]", item)
    elif not isinstance(value, _FIELD_TYPES):
        raise TypeError(
            f"{where}: AMQP headers cannot carry {type(value).__name__} values, only str, bytes, "
            "bool, int, Decimal, datetime, None, and lists and dicts of them"
        )
    else:
        try:
            pika.data.encode_value([], value)
        except Exception:
            raise ValueError(f"{where}: out of AMQP's range: {excerpt(value)}") from None


def _body(body) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return _utf8("body", body)
    raise TypeError(f"body: expected bytes or str, got {excerpt(body)}")


def _utf8(name: str, value: str) -> bytes:
    try:
        return value.encode()
    except UnicodeEncodeError:
        raise ValueError(f"{name}: not encodable as UTF-8: {excerpt(value)}") from None


def _properties_dict(properties: pika.BasicProperties) -> dict:
    values = {name: getattr(properties, name) for name in PROPERTY_NAMES}
    return {name: value for name, value in values.items() if value is not None}


def _open_error(exc: BaseException) -> AMQPError:
    refused = (
        pika.exceptions.ProbableAuthenticationError
        | pika.exceptions.AuthenticationError
        | pika.exceptions.ProbableAccessDeniedError
    )
    if isinstance(exc, refused) or isinstance(_innermost(exc), ssl.SSLCertVerificationError):
        return Refused(_describe(exc))
    return ConnectionFailed(_describe(exc))


def _innermost(exc: BaseException) -> BaseException:
    """The error inside pika's wrappers of connection errors."""
    if isinstance(exc, AMQPConnectionWorkflowFailed):
        return _innermost(exc.exceptions[-1])
    if isinstance(exc, AMQPConnectorPhaseErrorBase):
        return _innermost(exc.exception)
    inner = [arg for arg in exc.args if isinstance(arg, BaseException)]
    return _innermost(inner[0]) if inner and not isinstance(exc, OSError) else exc


def _describe(exc: BaseException) -> str:
    """A readable reason for one of pika's, often nested, connection errors."""
    exc = _innermost(exc)
    if isinstance(exc, AMQPConnectorStackTimeout):
        return "timed out"
    if isinstance(exc, pika.exceptions.ConnectionClosed | pika.exceptions.ChannelClosed):
        return f"{exc.reply_text} ({exc.reply_code})"
    if isinstance(exc, ssl.SSLError):
        detail = getattr(exc, "verify_message", None) or exc.reason or str(exc)
        return f"TLS handshake failed: {detail}"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return str(exc) or type(exc).__name__
