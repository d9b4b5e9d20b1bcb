"""The command line against the broker: the ways a start fails there, each with a one-line error
and a non-zero exit, and the options a running daemon shows (LOGGING_FILE_CONFIG,
--max-blocking-time). The failures before it connects are in tests/unit/test_cli.py."""

from brokers import BROKER, broker_url
from cli_output import UNLIMITED, assert_clean_failure
from daemons import consumer_config
from waiting import wait_for

from amqpdispatcher.errors import EXIT_FAILURE


def test_a_consumer_class_that_cannot_be_imported_stops_the_start(broker, daemon_factory):
    config = consumer_config(broker.queue_name())
    config["consumers"][0]["consumer"] = "scripted:Missing"
    daemon = daemon_factory(config)
    assert_clean_failure(
        daemon.run(), f"{daemon.config_path}: consumers[0].consumer: 'scripted' has no attribute"
    )


def test_a_failing_startup_handler_stops_the_start(broker, daemon_factory):
    config = consumer_config(broker.queue_name())
    config["startup_handler"] = "scripted:failing_startup"
    daemon = daemon_factory(config)
    result = daemon.run()
    assert result.returncode == 1
    assert (
        f"{daemon.config_path}: startup_handler: scripted:failing_startup raised "
        "OSError('cache unreachable')" in result.stdout
    )


def test_a_binding_to_a_missing_exchange_stops_the_start(broker, daemon_factory):
    queue, missing = broker.queue_name(), broker.exchange_name("missing")
    config = consumer_config(queue, bindings=[{"exchange": missing, "routing_key": "k"}])
    daemon = daemon_factory(config)
    assert_clean_failure(
        daemon.run(),
        f"{daemon.config_path}: queues[0].bindings[0]: binding of '{queue}' to "
        f"'{missing}': NOT_FOUND - no exchange '{missing}' in vhost '{BROKER.vhost}' (404)",
        status=EXIT_FAILURE,
    )


def test_a_passive_queue_that_does_not_exist_stops_the_start(broker, daemon_factory):
    queue = broker.queue_name()
    daemon = daemon_factory(consumer_config(queue, passive=True))
    assert_clean_failure(
        daemon.run(),
        f"queues[0]: queue '{queue}': NOT_FOUND - no queue '{queue}' in vhost "
        f"'{BROKER.vhost}' (404)",
        status=EXIT_FAILURE,
    )


def test_a_passive_queue_that_exists_is_only_checked(broker, daemon_factory):
    queue = broker.queue_name()
    broker.channel.queue_declare(queue, arguments={"x-max-length": 3})
    daemon = daemon_factory(consumer_config(queue, passive=True, durable=False)).start()
    daemon.wait_ready()
    assert daemon.stop() == 0


def test_consuming_a_queue_that_does_not_exist_stops_the_start(broker, daemon_factory):
    config = consumer_config("unused")
    missing = broker.queue_name("missing")
    config["consumers"][0]["queue"] = missing
    daemon = daemon_factory(config)
    assert_clean_failure(
        daemon.run(),
        f"consumers[0]: cannot consume '{missing}': NOT_FOUND - no queue",
        status=EXIT_FAILURE,
    )
    broker.queues.append("unused")


def test_wrong_credentials_are_a_clear_error(broker, daemon_factory):
    url = broker_url(password="s3cret")
    result = daemon_factory(consumer_config(broker.queue_name()), RABBITMQ_URL=url).run()
    assert_clean_failure(result, "ACCESS_REFUSED - Login was refused", status=EXIT_FAILURE)
    assert "s3cret" not in result.stdout


def test_logging_file_config_is_applied(broker, daemon_factory, tmp_path):
    ini = tmp_path / "logging.ini"
    ini.write_text(
        "[loggers]\nkeys=root\n[handlers]\nkeys=err\n[formatters]\nkeys=plain\n"
        "[logger_root]\nlevel=INFO\nhandlers=err\n"
        "[handler_err]\nclass=StreamHandler\nformatter=plain\nargs=(sys.stderr,)\n"
        "[formatter_plain]\nformat=CUSTOM|%(name)s|%(message)s\n"
    )
    daemon = daemon_factory(consumer_config(broker.queue_name()), LOGGING_FILE_CONFIG=str(ini))
    daemon.start().wait_ready()
    assert daemon.stop() == 0
    assert "CUSTOM|amqp-dispatcher|ready: 1 consumer pool" in daemon.log()


def test_max_blocking_time_0_turns_the_warning_off(broker, daemon_factory):
    queue = broker.queue_name()
    daemon = daemon_factory(consumer_config(queue)).start("--max-blocking-time", "0")
    daemon.wait_ready()
    broker.publish(queue, {"id": 1, "do": [["spin", 2.5]]})  # past the default 1.0s
    wait_for(lambda: daemon.records("done"), what="the spinning message")
    assert daemon.stop() == 0
    assert "Traceback" not in daemon.log()
    assert "blocked" not in daemon.log()


def test_the_daemon_warns_that_prefetch_0_is_unlimited(broker, daemon_factory):
    daemon = daemon_factory(consumer_config(broker.queue_name(), prefetch=0)).start()
    daemon.wait_ready()
    assert daemon.stop() == 0
    assert f"WARNING [amqp-dispatcher] {daemon.config_path}: {UNLIMITED} at once\n" in daemon.log()


def test_a_queue_name_from_the_environment_is_hidden_in_the_brokers_reply(broker, daemon_factory):
    queue = broker.queue_name()
    config = consumer_config("${AMQPD_TEST_QUEUE}", passive=True)
    daemon = daemon_factory(config, AMQPD_TEST_QUEUE=queue)
    hidden = "<the value of ${AMQPD_TEST_QUEUE}>"
    result = daemon.run()
    assert_clean_failure(
        result,
        "queues[0]: queue the value of ${AMQPD_TEST_QUEUE} (not shown): "
        f"NOT_FOUND - no queue '{hidden}' in vhost",
        status=EXIT_FAILURE,
    )
    assert queue not in result.stdout
