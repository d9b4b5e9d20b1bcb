"""pika's connection errors, often nested, translated into the transport's."""

from __future__ import annotations

import ssl

import pika.exceptions
from pika.adapters.utils.connection_workflow import (
    AMQPConnectionWorkflowFailed,
    AMQPConnectorPhaseErrorBase,
    AMQPConnectorStackTimeout,
)

from .errors import AMQPError, ConnectionFailed, Refused


def open_error(exc: BaseException) -> AMQPError:
    refused = (
        pika.exceptions.ProbableAuthenticationError
        | pika.exceptions.AuthenticationError
        | pika.exceptions.ProbableAccessDeniedError
    )
    if isinstance(exc, refused) or isinstance(_innermost(exc), ssl.SSLCertVerificationError):
        return Refused(describe(exc))
    return ConnectionFailed(describe(exc))


def _innermost(exc: BaseException) -> BaseException:
    """The error inside pika's wrappers of connection errors."""
    if isinstance(exc, AMQPConnectionWorkflowFailed):
        return _innermost(exc.exceptions[-1])
    if isinstance(exc, AMQPConnectorPhaseErrorBase):
        return _innermost(exc.exception)
    inner = [arg for arg in exc.args if isinstance(arg, BaseException)]
    return _innermost(inner[0]) if inner and not isinstance(exc, OSError) else exc


def describe(exc: BaseException) -> str:
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
