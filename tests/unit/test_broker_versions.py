"""The warnings about what RabbitMQ 4.x refuses or does differently: each names its YAML path
and the version. The shared broker is 3.10, so these are checked on the config alone."""

import pytest

from amqpdispatcher.config import load_config, parse_config, warnings

RETRY = {"max_retries": 2, "backoff": [1]}
QUORUM_DEFAULT = (
    "quorum queue 'q' has no dead-letter exchange, and not every consumers entry of it has a "
    "retry: block: since RabbitMQ 4.0 the broker drops a message redelivered 20 times (the "
    "default x-delivery-limit); set x-dead-letter-exchange, retry:, or a higher x-delivery-limit"
)
MIRRORING = "classic mirrored queues were removed in RabbitMQ 4.0; use x-queue-type: quorum"


def warned(*queues: dict, consumers: list[dict] | None = None) -> list[str]:
    entries = consumers if consumers is not None else [{"consumer": "m:C", "queue": "q"}]
    return warnings(parse_config({"queues": list(queues), "consumers": entries}, "cfg.yaml", {}))


def test_the_sample_config_has_no_warning():
    assert warnings(load_config("amqp-dispatcher-config.yml")) == []


@pytest.mark.parametrize(
    "queue",
    [
        {"queue": "q"},
        {"queue": "q", "durable": False, "exclusive": True},
        {"queue": "q", "durable": False, "passive": True},  # declares nothing
        {"queue": "q", "x_queue_type": "quorum", "x_dead_letter_exchange": "dead"},
        {"queue": "q", "x_queue_type": "quorum", "arguments": {"x-dead-letter-exchange": ""}},
        {"queue": "q", "x_queue_type": "quorum", "arguments": {"x-delivery-limit": -1}},
        {"queue": "q", "x_queue_type": "stream"},
        {"queue": "q", "arguments": {"x-queue-version": 2}},
    ],
)
def test_what_every_version_takes_is_no_warning(queue):
    assert warned(queue) == []


def test_a_quorum_queue_without_dead_lettering_or_retry_drops_at_the_default_limit():
    assert warned({"queue": "q", "x_queue_type": "quorum"}) == [
        f"queues[0].x_queue_type: {QUORUM_DEFAULT}"
    ]
    assert warned({"queue": "q", "arguments": {"x-queue-type": "quorum"}}) == [
        f"queues[0].arguments.x-queue-type: {QUORUM_DEFAULT}"
    ]


def test_a_quorum_queue_no_entry_consumes_is_warned_about_too():
    queue = {"queue": "q", "x_queue_type": "quorum"}
    assert warned(queue, consumers=[{"consumer": "m:C", "queue": "other"}]) == [
        f"queues[0].x_queue_type: {QUORUM_DEFAULT}"
    ]


def test_retry_on_every_entry_of_a_quorum_queue_is_enough():
    queue = {"queue": "q", "x_queue_type": "quorum"}
    retrying = {"consumer": "m:C", "queue": "q", "retry": RETRY}
    assert warned(queue, consumers=[retrying]) == []
    requeuing = {"consumer": "m:D", "queue": "q"}
    assert warned(queue, consumers=[retrying, requeuing]) == [
        f"queues[0].x_queue_type: {QUORUM_DEFAULT}"
    ]


def test_an_explicit_delivery_limit_is_named_with_its_own_path():
    queue = {"queue": "q", "x_queue_type": "quorum", "arguments": {"x-delivery-limit": 5}}
    assert warned(queue) == [
        "queues[0].arguments.x-delivery-limit: quorum queue 'q' has no dead-letter exchange, and "
        "not every consumers entry of it has a retry: block: the broker drops a message "
        "redelivered 5 times; set x-dead-letter-exchange or retry:"
    ]


@pytest.mark.parametrize("mode", ["lazy", "default"])
def test_x_queue_mode_is_refused_by_4_3_whatever_its_value(mode):
    assert warned({"queue": "q", "arguments": {"x-queue-mode": mode}}) == [
        "queues[0].arguments.x-queue-mode: ignored since RabbitMQ 3.12, and RabbitMQ 4.3 refuses "
        "to declare a queue with x-queue-mode, whatever its value: remove it"
    ]


def test_x_queue_version_1_is_refused_by_4_3():
    assert warned({"queue": "q", "arguments": {"x-queue-version": 1}}) == [
        "queues[0].arguments.x-queue-version: RabbitMQ 4.3 refuses to declare a queue with "
        "x-queue-version 1 (its storage was removed): remove it, or set 2"
    ]


@pytest.mark.parametrize("key", ["x-ha-policy", "ha-mode", "ha-params", "x-ha-nodes"])
def test_mirroring_arguments_assume_what_4_0_removed(key):
    assert warned({"queue": "q", "arguments": {key: "all"}}) == [
        f"queues[0].arguments.{key}: {MIRRORING}"
    ]


def test_a_transient_non_exclusive_queue_is_refused_by_4_3():
    assert warned({"queue": "q", "durable": False, "auto_delete": True}) == [
        "queues[0].durable: queue 'q' is neither durable nor exclusive: RabbitMQ 4.3 refuses to "
        "declare such a queue by default (deprecated feature transient_nonexcl_queues); make it "
        "durable (with x_expires to have it deleted when unused) or exclusive"
    ]


def test_the_retry_queues_of_a_transient_work_queue_are_transient_too():
    consumers = [
        {"consumer": "m:C", "queue": "q", "retry": RETRY},
        {"consumer": "m:D", "queue": "q", "retry": RETRY},  # shares the same queues
    ]
    lines = warned({"queue": "q", "durable": False, "passive": True}, consumers=consumers)
    assert lines == [
        "consumers[0].retry: its delay and archive queues ('q.delay.1s', 'q.archive') are "
        "transient like its work queue: RabbitMQ 4.3 refuses to declare them by default "
        "(deprecated feature transient_nonexcl_queues); make the work queue durable"
    ]


def test_the_retry_queues_of_a_durable_or_undeclared_work_queue_are_durable():
    consumers = [{"consumer": "m:C", "queue": "q", "retry": RETRY}]
    assert warned({"queue": "q"}, consumers=consumers) == []
    assert warned(consumers=consumers) == []
