"""Exchanges the config uses without declaring them, which --validate warns about."""

from amqpdispatcher.config import parse_config
from amqpdispatcher.references import Reference, undeclared_exchanges, warnings


def config_with(*queues: dict, exchanges: tuple[str, ...] = ()):
    data = {
        "exchanges": [{"exchange": name} for name in exchanges],
        "queues": list(queues),
        "consumers": [{"consumer": "m:C", "queue": "q"}],
    }
    return parse_config(data, "cfg.yaml", {})


def test_declared_and_built_in_exchanges_need_no_declaration():
    config = config_with(
        {
            "queue": "a",
            "x_dead_letter_exchange": "declared",
            "bindings": [{"exchange": "declared"}],
        },
        {"queue": "b", "x_dead_letter_exchange": "", "bindings": [{"exchange": "amq.topic"}]},
        {"queue": "c", "arguments": {"x-dead-letter-exchange": "amq.direct"}},
        {"queue": "d", "arguments": {"x-dead-letter-exchange": 5}},  # the broker's to refuse
        exchanges=("declared",),
    )
    assert undeclared_exchanges(config) == []
    assert warnings(config) == []


def test_undeclared_exchanges_queue_by_queue_with_the_path_that_names_them():
    config = config_with(
        {"queue": "a", "bindings": [{"exchange": "declared"}, {"exchange": "events"}]},
        {"queue": "b", "x_dead_letter_exchange": "dlx", "bindings": [{"exchange": "amqp.x"}]},
        {"queue": "c", "arguments": {"x-dead-letter-exchange": "dlx"}},
        exchanges=("declared",),
    )
    assert undeclared_exchanges(config) == [
        Reference("events", "queues[0].bindings[1].exchange", "a", dead_letter=False),
        Reference("dlx", "queues[1].x_dead_letter_exchange", "b", dead_letter=True),
        Reference("amqp.x", "queues[1].bindings[0].exchange", "b", dead_letter=False),
        Reference("dlx", "queues[2].arguments.x-dead-letter-exchange", "c", dead_letter=True),
    ]


def test_warnings_say_what_goes_wrong():
    config = config_with(
        {"queue": "a", "x_dead_letter_exchange": "dlx", "bindings": [{"exchange": "events"}]}
    )
    assert warnings(config) == [
        "queues[0].x_dead_letter_exchange: exchange 'dlx' is not declared under exchanges: if it"
        " does not exist, messages dead-lettered from queue 'a' (nack or reject without requeue,"
        " expiry, overflow) are silently dropped",
        "queues[0].bindings[0].exchange: exchange 'events' is not declared under exchanges:"
        " someone else must declare it before the daemon starts, or the broker refuses the"
        " binding",
    ]
