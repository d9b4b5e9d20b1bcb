"""Which broker a connection reached, from the server properties pika decoded."""

from amqpdispatcher.transport.server import ServerInfo, server_info


def test_the_product_and_version_as_rabbitmq_announces_them():
    properties = {"product": "RabbitMQ", "version": "3.10.8", "platform": "Erlang/OTP 25.2.3"}
    server = server_info(properties)
    assert server == ServerInfo("RabbitMQ", "3.10.8")
    assert str(server) == "RabbitMQ 3.10.8"


def test_bytes_that_are_not_utf8_and_missing_properties_still_give_text():
    assert server_info({"product": b"Rabbit\xff", "version": ""}) == ServerInfo(
        "Rabbit\ufffd", "unknown"
    )
    assert server_info(None) == ServerInfo("unknown", "unknown")
