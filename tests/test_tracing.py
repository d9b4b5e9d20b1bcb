"""tracing: true against the broker: each delivery's CONSUMER span continues the trace the
message came with, a publish inside consume carries a context under it, and a retried message's
next attempt links to the one that failed; on the thread executor too. The spans are the SDK's,
written to a file by the startup handler (tracing_setup.py)."""

import json

import pytest
from daemons import consumer_config
from test_retry import retry_config
from waiting import wait_for

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PRODUCER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PRODUCER_SPAN}-01"


def traced(config: dict) -> dict:
    return {"startup_handler": "tracing_setup:setup", "tracing": True, **config}


def started(daemon_factory, config: dict, tmp_path):
    spans = tmp_path / "spans.jsonl"
    daemon = daemon_factory(config, SPAN_FILE=str(spans)).start().wait_ready()
    return daemon, spans


def finished_spans(path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().split("\n")[:-1]]


def ids(span: dict) -> tuple[str, str, str | None]:
    """The span's trace id, its id and its parent's, in hex without 0x."""
    context, parent = span["context"], span["parent_id"]
    return context["trace_id"][2:], context["span_id"][2:], parent and parent[2:]


@pytest.mark.parametrize("executor", ["gevent", "thread"])
def test_a_consume_span_continues_the_producers_trace_and_a_publish_carries_it_on(
    broker, daemon_factory, tmp_path, executor
):
    queue, out = broker.queue_name(), broker.queue_name("out")
    config = traced(consumer_config(queue))
    config["queues"].append({"queue": out, "durable": False})
    config["consumers"][0]["executor"] = executor
    daemon, path = started(daemon_factory, config, tmp_path)
    work = {"id": 1, "do": [["publish", "", out, "onward"]]}
    broker.publish(queue, work, headers={"traceparent": TRACEPARENT}, message_id="m-7")
    wait_for(lambda: len(finished_spans(path)) == 2, what="the publish and consume spans")
    assert daemon.stop() == 0

    publish, consume = finished_spans(path)
    assert consume["name"] == f"process {queue}"
    assert consume["kind"] == "SpanKind.CONSUMER"
    assert ids(consume)[0::2] == (TRACE_ID, PRODUCER_SPAN)
    attributes = consume["attributes"]
    assert attributes["messaging.system"] == "rabbitmq"
    assert attributes["messaging.operation.type"] == "process"
    assert attributes["messaging.destination.name"] == queue
    assert attributes["messaging.message.id"] == "m-7"
    assert attributes["messaging.rabbitmq.message.delivery_tag"] == 1
    assert attributes["amqp_dispatcher.redelivered"] is False
    assert attributes["amqp_dispatcher.answer"] == "ack"
    assert consume["status"]["status_code"] == "UNSET"

    assert (publish["name"], publish["kind"]) == ("publish amq.default", "SpanKind.PRODUCER")
    assert ids(publish)[0::2] == (TRACE_ID, ids(consume)[1])
    ((_, properties, body),) = broker.get_all(out)
    assert body == b"onward"
    assert properties.headers == {
        "from": "scripted",
        "traceparent": f"00-{TRACE_ID}-{ids(publish)[1]}-01",
    }


def test_a_retried_message_keeps_the_trace_and_links_to_the_failed_attempt(
    broker, daemon_factory, tmp_path
):
    config, queue = retry_config(broker, {"max_retries": 2, "backoff": [0.1]})
    daemon, path = started(daemon_factory, traced(config), tmp_path)
    work = {"id": "flaky", "do": [["raise-below-retry", 1]]}
    broker.publish(queue, work, headers={"traceparent": TRACEPARENT})
    wait_for(lambda: len(finished_spans(path)) == 2, what="two attempts")
    assert daemon.stop() == 0

    first, second = finished_spans(path)
    assert first["status"]["status_code"] == "ERROR"
    assert first["attributes"]["error.type"] == "RuntimeError"
    assert [event["name"] for event in first["events"]] == ["exception"]
    assert second["status"]["status_code"] == "UNSET"
    assert second["attributes"]["amqp_dispatcher.retry_count"] == 1
    # Siblings under the producer's span, the second linking to the first.
    assert ids(first)[0::2] == ids(second)[0::2] == (TRACE_ID, PRODUCER_SPAN)
    (link,) = second["links"]
    assert link["context"]["span_id"][2:] == ids(first)[1]
    (retried,) = [r for r in daemon.records("consume") if r["headers"].get("x-retry-count")]
    assert retried["headers"]["traceparent"] == TRACEPARENT
    assert retried["headers"]["x-previous-traceparent"] == f"00-{TRACE_ID}-{ids(first)[1]}-01"


def test_with_tracing_off_opentelemetry_is_never_imported(broker, daemon_factory):
    queue = broker.queue_name()
    daemon = daemon_factory(consumer_config(queue)).start().wait_ready()
    broker.publish(queue, {"id": 1, "do": ["record-modules"]})
    wait_for(lambda: daemon.records("modules"), what="the modules recorded")
    assert daemon.stop() == 0
    assert daemon.records("modules")[0]["opentelemetry"] is False
