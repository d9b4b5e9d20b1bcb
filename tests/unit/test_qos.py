"""basic.qos is per consumer: RabbitMQ 4.x deprecates global QoS and 4.3 refuses it."""

from amqpdispatcher.transport.channel import Channel

from .channel import PikaChannel


def test_the_prefetch_count_is_set_per_consumer_never_globally():
    pika_channel = PikaChannel()
    Channel(pika_channel).qos(8)
    assert pika_channel.qos == [{"prefetch_size": 0, "prefetch_count": 8, "global": False}]
