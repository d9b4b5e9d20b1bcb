"""Unit tests of the example's consumers, written with amqp-dispatcher's test helpers (the
fixtures make_message and run_consumer come from its pytest plugin): no broker needed."""

import logging

from example.consumer import Consumer, ResultConsumer


def test_a_work_item_is_handled_and_acked(make_message, run_consumer):
    outcome = run_consumer(Consumer, make_message({"id": 1}))
    assert (outcome.answer, outcome.exception, outcome.published) == ("ack", None, [])


def test_an_item_asking_for_it_is_republished_to_the_results(make_message, run_consumer):
    consumer = Consumer()
    message = make_message({"id": 5, "republish": True})
    outcome = run_consumer(consumer, message)
    assert outcome.answer == "ack"
    (result,) = outcome.published
    assert (result.exchange, result.routing_key) == ("amq.topic", "example.result")
    assert result.headers == {"instance": consumer.id}
    assert result.json() == {"id": 5, "republish": True}


def test_a_failing_item_goes_back_to_the_queue_then_succeeds_redelivered(
    make_message, run_consumer
):
    first = run_consumer(Consumer, make_message({"id": 7, "fail": True}))
    assert isinstance(first.exception, RuntimeError)
    assert (first.answer, first.requeue, first.replaced) == ("reject", True, True)
    again = run_consumer(Consumer, make_message({"id": 7, "fail": True}, redelivered=True))
    assert (again.answer, again.exception) == ("ack", None)


def test_a_result_is_logged_with_the_instance_that_republished_it(
    make_message, run_consumer, caplog
):
    caplog.set_level(logging.INFO, "amqp-dispatcher.example")
    message = make_message({"id": 10}, headers={"instance": 3})
    assert run_consumer(ResultConsumer, message).answer == "ack"
    assert "result of item 10, republished by instance 3" in caplog.messages
