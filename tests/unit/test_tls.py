"""TLS in-process, no broker needed: a handshake cut short is network trouble."""

import pytest
from tls_endpoints import EOF_TEXT

from amqpdispatcher.transport import ConnectionFailed, Refused, connect


def test_a_tls_connection_dropped_in_the_handshake_is_a_network_failure(eof):
    with pytest.raises(ConnectionFailed) as failure:
        connect([eof], "test-tls")
    assert not isinstance(failure.value, Refused)
    assert str(failure.value) == f"no broker reachable ({eof}: {EOF_TEXT})"
