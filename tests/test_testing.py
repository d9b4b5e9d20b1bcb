"""The test helpers against the daemon: what they build and check is what the daemon hands
over and checks."""

import json

from daemons import consumer_config
from waiting import wait_for

from amqpdispatcher.testing import make_message


def test_make_message_builds_the_message_the_daemon_hands_over(broker, daemon_factory):
    queue = broker.queue_name()
    daemon = daemon_factory(consumer_config(queue)).start().wait_ready()
    body = json.dumps({"id": 1, "note": "café"})
    properties = {
        "content_type": "application/json",
        "message_id": "m-1",
        "priority": 3,
        "timestamp": 1_700_000_000,
        "headers": {"attempt": 2, "tags": ["a", "b"], "nested": {"ok": True}},
    }
    broker.publish(queue, body, **properties)
    (seen,) = wait_for(lambda: daemon.records("consume"))
    made = make_message(body, routing_key=queue, delivery_mode=2, **properties)
    assert seen["text"] == made.text
    assert seen["headers"] == made.headers
    made_properties = {k: v for k, v in made.properties.items() if k != "headers"}
    assert seen["properties"] == made_properties
    ignored = ("consumer_tag", "delivery_tag")
    assert {k: v for k, v in seen["delivery_info"].items() if k not in ignored} == {
        k: v for k, v in made.delivery_info.items() if k not in ignored
    }


def test_publish_json_sends_compact_utf8_json(broker, daemon_factory):
    queue, replies = broker.queue_name(), broker.queue_name("replies")
    broker.channel.queue_declare(replies, auto_delete=True)
    daemon = daemon_factory(consumer_config(queue)).start().wait_ready()
    broker.publish(queue, {"id": 1, "do": [["publish-json", "", replies, {"total": "12.5 €"}]]})
    wait_for(lambda: daemon.records("done"))
    ((_, properties, body),) = broker.get_all(replies)
    assert body == '{"total":"12.5 €"}'.encode()
    assert properties.content_type == "application/json"
    assert properties.headers == {"from": "scripted"}


def test_the_body_where_the_headers_belong_is_named_in_the_daemon_log(broker, daemon_factory):
    queue = broker.queue_name()
    daemon = daemon_factory(consumer_config(queue)).start().wait_ready()
    broker.publish(queue, {"id": 1, "do": [["publish-misordered", "", queue, "a body"]]})
    expected = (
        "TypeError: publish: headers, the third argument, must be a dict or None, got "
        "'a body'; the order is publish(exchange, routing_key, headers, body): pass the body "
        "fourth, or as body=..."
    )
    wait_for(lambda: expected in daemon.log(), what="the TypeError")
    assert "AttributeError" not in daemon.log()
