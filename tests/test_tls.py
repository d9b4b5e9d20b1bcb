"""TLS in-process: which handshake failures are fatal and which are network trouble."""

import dataclasses
import logging
import ssl

import pytest
import trustme
from brokers import BROKER
from proxy import Proxy
from tls_endpoints import EOF_TEXT, tls_target

from amqpdispatcher.transport import Refused, connect
from amqpdispatcher.url import TLS


@pytest.fixture
def good(ca, ca_file):
    """A TLS endpoint in front of the broker, with a certificate of `ca`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    proxy = Proxy((BROKER.host, BROKER.port), tls=context)
    yield tls_target(proxy.port, ca_file)
    proxy.close()


def test_the_next_host_is_tried_after_a_tls_connection_dropped(eof, good, caplog):
    caplog.set_level(logging.WARNING, "amqp-dispatcher")
    connection = connect([eof, good], "test-tls")
    try:
        assert connection.target == good
    finally:
        connection.close()
    (warning,) = [r for r in caplog.records if r.name == "amqp-dispatcher.connection"]
    assert warning.levelno == logging.WARNING
    assert warning.getMessage() == f"cannot connect to {eof}: {EOF_TEXT}"


def test_a_broker_certificate_that_does_not_verify_is_refused_at_once(good, tmp_path, caplog):
    other_ca = tmp_path / "other.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    untrusted = dataclasses.replace(good, tls=TLS(cacertfile=str(other_ca)))
    caplog.set_level(logging.WARNING, "amqp-dispatcher")
    with pytest.raises(Refused, match="^TLS handshake failed: unable to get local issuer cert"):
        connect([untrusted, good], "test-tls")
    assert "cannot connect" not in caplog.text  # the good host was never tried
