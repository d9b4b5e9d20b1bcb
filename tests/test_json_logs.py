"""--log-format json and log_format: json, through the daemon's command line against the real
broker: every line of its log is a JSON object, with the consume context inside consume."""

import json
import re

import pytest
from daemons import consumer_config, worker_label
from waiting import wait_for

from amqpdispatcher.logs import MAX_TEXT

CONTEXT_KEYS = {"queue", "consumer", "delivery_tag", "message_id", "redelivered", "retry_count"}


def assert_has(line: dict, expected: dict) -> None:
    assert {key: line.get(key, "(absent)") for key in expected} == expected


def json_lines(daemon) -> list[dict]:
    lines = daemon.log().splitlines()
    assert lines
    return [json.loads(line) for line in lines]  # fails on any line that is not JSON


def one(lines: list[dict], message: str) -> dict:
    (line,) = [line for line in lines if line["message"] == message]
    return line


def test_json_lines_carry_the_consume_context(broker, daemon_factory):
    queue = broker.queue_name()
    daemon = daemon_factory(consumer_config(queue)).start("--log-format", "json").wait_ready()
    broker.publish(queue, {"id": 1, "do": [["log", "first delivery"]]}, message_id="m-1")
    broker.publish(queue, {"id": 2, "do": ["raise-once"]})
    broker.publish(queue, {"id": 3, "do": [["log", "third retry"]]}, headers={"x-retry-count": 3})
    wait_for(lambda: len(daemon.records("done")) == 3, what="three messages consumed")
    assert daemon.stop() == 0

    lines = json_lines(daemon)
    here = {"queue": queue, "consumer": "scripted:Scripted"}
    first = one(lines, "first delivery")
    assert_has(
        first,
        {
            **here,
            "level": "INFO",
            "logger": "scripted",
            "message_id": "m-1",
            "redelivered": False,
            "retry_count": None,
        },
    )
    failed = one(lines, f"scripted:Scripted raised on queue {queue!r}, delivery 2")
    assert_has(failed, {**here, "level": "ERROR", "delivery_tag": 2})
    assert failed["logger"] == "amqp-dispatcher.pool"
    assert "message_id" not in failed
    assert failed["exc_info"].startswith("Traceback (most recent call last):")
    assert failed["exc_info"].endswith("RuntimeError: scripted failure")
    assert_has(one(lines, "third retry"), {**here, "retry_count": 3})

    in_consume = [line for line in lines if CONTEXT_KEYS & line.keys()]
    assert in_consume == [first, failed, one(lines, "third retry")]
    ready = one(lines, "ready: 1 consumer pool")
    assert ready.keys() == {"time", "level", "logger", "message", "worker", "pid"}
    assert (ready["worker"], ready["pid"]) == (1, daemon.workers()[1])
    arbiter = one(lines, "workers consuming: 1 of 1, each on every pool")
    assert arbiter.keys() == {"time", "level", "logger", "message"}


@pytest.mark.parametrize(
    ("yaml_format", "flag", "json_expected"),
    [("json", None, True), ("text", "json", True), ("json", "text", False), (None, None, False)],
)
def test_the_flag_wins_over_the_yaml(broker, daemon_factory, yaml_format, flag, json_expected):
    queue = broker.queue_name()
    config = consumer_config(queue)
    if yaml_format:
        config["log_format"] = yaml_format
    daemon = daemon_factory(config).start(*(["--log-format", flag] if flag else []))
    daemon.wait_ready()
    broker.publish(queue, {"id": 1, "do": [["log", "consuming"]]})
    wait_for(lambda: daemon.records("done"), what="the message consumed")
    assert daemon.stop() == 0

    if json_expected:
        assert one(json_lines(daemon), "consuming")["queue"] == queue
    else:
        ready = f"INFO [amqp-dispatcher] {worker_label(daemon)}: ready: 1 consumer pool\n"
        assert ready in daemon.log()
        assert f"INFO [scripted] {worker_label(daemon)}: consuming\n" in daemon.log()
        assert not [line for line in daemon.log().splitlines() if line.startswith("{")]


def test_logging_file_config_wins(broker, daemon_factory, tmp_path):
    ini = tmp_path / "logging.ini"
    ini.write_text(
        "[loggers]\nkeys=root\n[handlers]\nkeys=err\n[formatters]\nkeys=plain\n"
        "[logger_root]\nlevel=INFO\nhandlers=err\n"
        "[handler_err]\nclass=StreamHandler\nformatter=plain\nargs=(sys.stderr,)\n"
        "[formatter_plain]\nformat=CUSTOM|%(name)s|%(message)s\n"
    )
    config = {**consumer_config(broker.queue_name()), "log_format": "json"}
    daemon = daemon_factory(config, LOGGING_FILE_CONFIG=str(ini))
    daemon.start("--log-format", "json").wait_ready()
    assert daemon.stop() == 0
    assert "CUSTOM|amqp-dispatcher|ready: 1 consumer pool" in daemon.log()
    assert "{" not in daemon.log()


def test_a_logging_file_config_can_use_the_json_formatter(broker, daemon_factory, tmp_path):
    ini = tmp_path / "logging.ini"
    ini.write_text(
        "[loggers]\nkeys=root\n[handlers]\nkeys=err\n[formatters]\nkeys=json\n"
        "[logger_root]\nlevel=INFO\nhandlers=err\n"
        "[handler_err]\nclass=StreamHandler\nformatter=json\nargs=(sys.stderr,)\n"
        "[formatter_json]\nclass=amqpdispatcher.logs.JsonFormatter\n"
    )
    queue = broker.queue_name()
    config = {**consumer_config(queue), "log_format": "json"}  # for the consume context
    daemon = daemon_factory(config, LOGGING_FILE_CONFIG=str(ini)).start().wait_ready()
    broker.publish(queue, {"id": 1, "do": [["log", "consuming"]]})
    wait_for(lambda: daemon.records("done"), what="the message consumed")
    assert daemon.stop() == 0
    assert one(json_lines(daemon), "consuming")["queue"] == queue


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_a_huge_exception_message_makes_a_bounded_line(broker, daemon_factory, log_format):
    queue = broker.queue_name()
    daemon = daemon_factory(consumer_config(queue)).start("--log-format", log_format)
    daemon.wait_ready()
    broker.publish(queue, {"id": 1, "do": [["raise-huge-once", 5_000_000]]})
    wait_for(lambda: len(daemon.records("done")) == 1, what="the message consumed again")
    assert daemon.stop() == 0
    log = daemon.log()
    assert re.search(r"h\.\.\. \[cut: 5,000,[0-9]{3} characters in all\]", log)
    assert max(len(line) for line in log.splitlines()) < MAX_TEXT + 1000
