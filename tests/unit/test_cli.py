"""The command line: options, --validate, and every way a start can fail before it connects,
each with a one-line error and a non-zero exit; RABBITMQ_URL points where no broker listens."""

import os
import re
import signal
import subprocess
import sys

import pytest
from cli_output import UNLIMITED, assert_clean_failure
from daemons import consumer_config
from waiting import wait_for

from amqpdispatcher.arbiter import MAX_START_FAILURES
from amqpdispatcher.errors import EXIT_CONFIG, EXIT_FAILURE, EXIT_RESTART

DEAD_URL = "amqp://guest:guest@127.0.0.1:1/"
# The configs whose output is checked line by line declare their queue durable: a transient one
# draws a warning of its own (RabbitMQ 4.3 refuses it: config/broker_versions.py).


def cli(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "amqpdispatcher", *args]
    return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def as_logged(validated: str) -> list[str]:
    """The error lines of --validate as a start logs them: the level says it is an error."""
    return [line.replace(": error: ", ": ", 1) for line in validated.splitlines()]


def assert_tracebacks_are_logged(output: str) -> None:
    """Every traceback belongs to an ERROR record of the daemon's logger: none is bare."""
    chained = ("During handling of the above exception", "The above exception was the direct")
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("Traceback"):
            assert index >= 2, output
            before = lines[index - 2 : index]
            assert " ERROR [amqp-dispatcher]" in before[1] or before[0].startswith(chained), output


def test_version_and_help():
    assert cli("--version").stdout.startswith("amqp-dispatcher 1.")
    usage = cli("--help").stdout
    for option in ("--config", "--validate", "--shutdown-timeout", "RABBITMQ_URL"):
        assert option in usage


def test_validate_accepts_the_sample_config():
    result = cli("--validate", "--config", "amqp-dispatcher-config.yml")
    assert result.returncode == 0, result.stdout
    assert result.stdout == (
        "amqp-dispatcher-config.yml: OK (1 exchange, 3 queues, 2 consumers, 5 consumer instances)\n"
    )


BAD_CONFIG = """\
queues:
  - queue: jobs
    durable: yes please
consumers:
  - consumer: scripted:Scripted
    queue: jobs
    prefech_count: 3
  - consumer: scripted:Scripted
    queue: jobs
    prefetch_count: ten
"""


def test_validate_reports_every_problem_and_no_traceback(daemon_factory):
    daemon = daemon_factory(BAD_CONFIG, RABBITMQ_URL=DEAD_URL)
    result = daemon.run("--validate")
    path = daemon.config_path
    error = f"{path}: error:"
    assert result.returncode == EXIT_CONFIG
    assert result.stdout.splitlines() == [
        f"{error} queues[0].durable: expected a boolean, got 'yes please'",
        f"{error} consumers[0].prefech_count: unknown key (did you mean 'prefetch_count'?)",
        f"{error} consumers[1].prefetch_count: expected an integer from 0 to 65535, got 'ten'",
    ]


def test_validate_takes_the_thread_executor_and_refuses_threads_without_it(daemon_factory):
    config = consumer_config("jobs", count=4, durable=True)
    config["consumers"][0].update(executor="thread", threads=2)
    daemon = daemon_factory(config, RABBITMQ_URL=DEAD_URL)
    assert daemon.run("--validate").returncode == 0
    config["consumers"][0].update(executor="gevent")
    daemon = daemon_factory(config, RABBITMQ_URL=DEAD_URL)
    result = daemon.run("--validate")
    assert result.returncode == EXIT_CONFIG
    assert result.stdout.splitlines() == [
        f"{daemon.config_path}: error: consumers[0].threads: only with executor: thread"
    ]


def test_validate_imports_the_code_the_config_names(daemon_factory):
    config = consumer_config("jobs", durable=True)
    config["startup_handler"] = "scripted:no_such_handler"
    config["consumers"] += [
        {"consumer": "no_such_module:Consumer", "queue": "jobs"},
        {"consumer": "scripted:Missing", "queue": "jobs"},
        {"consumer": "scripted:NoShutdown", "queue": "jobs"},
        {"consumer": "scripted:record", "queue": "jobs"},
    ]
    daemon = daemon_factory(config)
    result = daemon.run("--validate")
    path = daemon.config_path
    assert result.returncode == EXIT_CONFIG
    assert result.stdout.splitlines() == [
        f"{path}: error: startup_handler: 'scripted' has no attribute 'no_such_handler'",
        f"{path}: error: consumers[1].consumer: cannot import 'no_such_module': "
        "ModuleNotFoundError: No module named 'no_such_module'",
        f"{path}: error: consumers[2].consumer: 'scripted' has no attribute 'Missing'",
        f"{path}: error: consumers[3].consumer: 'scripted:NoShutdown' has no shutdown method",
        f"{path}: error: consumers[4].consumer: 'scripted:record' is not a class",
    ]


def test_validate_checks_the_options_of_each_entry_against_its_constructor(daemon_factory):
    config = consumer_config("jobs", durable=True)
    config["consumers"][0]["options"] = {"colour": "blue"}
    configured = {"consumer": "scripted:Configured", "queue": "jobs"}
    config["consumers"] += [{**configured, "options": {"shop": "north", "size": 3}}, configured]
    daemon = daemon_factory(config, RABBITMQ_URL=DEAD_URL)
    path = daemon.config_path
    result = run_for_stderr(daemon, "--validate")
    assert result.returncode == EXIT_CONFIG
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}: error: consumers[0].options: scripted:Scripted takes no option 'colour'",
        f"{path}: error: consumers[2].options: scripted:Configured needs option 'shop'",
    ]
    start = daemon.run()
    assert_clean_failure(start, *as_logged(result.stderr))
    assert "connect" not in start.stdout


def test_validate_names_the_yaml_path_of_an_unset_environment_variable(daemon_factory):
    config = consumer_config("${AMQPD_TEST_QUEUE}", count="${AMQPD_TEST_WORKERS:-2}", durable=True)
    daemon = daemon_factory(config, RABBITMQ_URL=DEAD_URL)
    path, unset = daemon.config_path, "environment variable AMQPD_TEST_QUEUE is not set"
    error = f"{path}: error:"
    result = daemon.run("--validate")
    assert result.returncode == EXIT_CONFIG
    assert result.stdout.splitlines() == [
        f"{error} queues[0].queue: {unset} (write ${{AMQPD_TEST_QUEUE:-...}} to give a default)",
        f"{error} consumers[0].queue: {unset} (write ${{AMQPD_TEST_QUEUE:-...}} to give a default)",
    ]
    assert_clean_failure(daemon.run(), *as_logged(result.stdout))
    daemon.env |= {"AMQPD_TEST_QUEUE": "jobs", "AMQPD_TEST_WORKERS": "7"}
    assert daemon.run("--validate").stdout == (
        f"{path}: OK (0 exchanges, 1 queue, 1 consumer, 7 consumer instances)\n"
    )


def test_validate_warns_about_exchanges_the_config_does_not_declare(daemon_factory):
    bindings = [{"exchange": name} for name in ("events", "declared", "amq.topic")]
    config = consumer_config(
        "jobs", x_dead_letter_exchange="jobs.dead", bindings=bindings, durable=True
    )
    config["exchanges"] = [{"exchange": "declared"}]
    config["queues"] += [
        {"queue": "a", "x_dead_letter_exchange": "declared"},
        {"queue": "b", "x_dead_letter_exchange": ""},
        {"queue": "c", "arguments": {"x-dead-letter-exchange": "amq.fanout"}},
        {"queue": "d", "arguments": {"x-dead-letter-exchange": "lost"}},
    ]
    daemon = daemon_factory(config, RABBITMQ_URL=DEAD_URL)
    path = daemon.config_path
    warning = f"{path}: warning:"
    result = run_for_stderr(daemon, "--validate")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"{path}: OK (1 exchange, 5 queues, 1 consumer, 1 consumer instance)\n"
    )
    undeclared = "is not declared under exchanges"
    dropped = "(nack or reject without requeue, expiry, overflow) are silently dropped"
    assert result.stderr.splitlines() == [
        f"{warning} queues[0].x_dead_letter_exchange: exchange 'jobs.dead' {undeclared}: if it does"
        f" not exist, messages dead-lettered from queue 'jobs' {dropped}",
        f"{warning} queues[0].bindings[0].exchange: exchange 'events' {undeclared}: someone else"
        " must declare it before the daemon starts, or the broker refuses the binding",
        f"{warning} queues[4].arguments.x-dead-letter-exchange: exchange 'lost' {undeclared}: if it"
        f" does not exist, messages dead-lettered from queue 'd' {dropped}",
    ]


def test_validate_needs_no_broker(daemon_factory):
    daemon = daemon_factory(consumer_config("jobs"), RABBITMQ_URL=DEAD_URL)
    result = daemon.run("--validate")
    assert result.returncode == 0
    assert "OK (0 exchanges, 1 queue, 1 consumer, 1 consumer instance)" in result.stdout


def test_an_invalid_config_stops_the_start_before_connecting(daemon_factory):
    daemon = daemon_factory(BAD_CONFIG, RABBITMQ_URL=DEAD_URL)
    result = daemon.run()
    assert_clean_failure(
        result,
        f"{daemon.config_path}: consumers[1].prefetch_count: expected an integer from 0 to 65535",
    )
    assert "connect" not in result.stdout


def test_unsafe_yaml_is_refused_not_run(daemon_factory, tmp_path):
    marker = tmp_path / "pwned"
    config = f'!!python/object/apply:os.system ["touch {marker}"]\n'
    result = daemon_factory(config).run("--validate")
    assert_clean_failure(result, "could not determine a constructor")
    assert not marker.exists()


def test_a_missing_config_file(tmp_path):
    result = cli("--config", str(tmp_path / "nope.yml"))
    assert_clean_failure(result, f"{tmp_path / 'nope.yml'}: cannot read: No such file or directory")


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"RABBITMQ_URL": "amqp://u:secret@h:0/"}, "RABBITMQ_URL: invalid port '0' for host 'h'"),
        ({"RABBITMQ_HEARTBEAT": "soon"}, "RABBITMQ_HEARTBEAT: expected whole seconds"),
        ({"LOGGING_FILE_CONFIG": "/nonexistent.ini"}, "LOGGING_FILE_CONFIG: no such file"),
        (
            {"RABBITMQ_URL": "amqps://u:secret@h/?cacertfile=/nonexistent.pem"},
            "RABBITMQ_URL cacertfile: no such file: /nonexistent.pem",
        ),
        ({"RABBITMQ_URL": "amqp://u:secret@h:\u00b2/"}, "RABBITMQ_URL: invalid port for host 'h'"),
        ({"RABBITMQ_URL": "amqp://guest:secret"}, "RABBITMQ_URL: invalid port for host 'guest'"),
        ({"RABBITMQ_HEARTBEAT": "\u00b2"}, "RABBITMQ_HEARTBEAT: expected whole seconds"),
        (
            {"RABBITMQ_URL": "amqp://u:secret@h/?connection_timeout=\u00b9"},
            "RABBITMQ_URL connection_timeout: expected whole milliseconds",
        ),
    ],
)
def test_bad_environment_is_named(daemon_factory, env, error):
    result = daemon_factory(consumer_config("jobs"), **env).run()
    assert_clean_failure(result, error)
    assert "secret" not in result.stdout


@pytest.mark.parametrize("password", ["12345/Qx7kZv9m", "s3cr/Qx7kZv9m", "Qx7k?Zv9m", "Qx7k#Zv9m"])
def test_a_raw_delimiter_in_the_password_is_refused_without_showing_it(daemon_factory, password):
    url = f"amqp://guest:{password}@127.0.0.1:1/"
    result = daemon_factory(consumer_config("jobs"), RABBITMQ_URL=url).run()
    assert_clean_failure(result, "RABBITMQ_URL: '@' after the host: percent-encode '/', '?', '#'")
    for fragment in re.findall("[A-Za-z0-9]{4,}", password):
        assert fragment not in result.stdout


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--shutdown-timeout", "nan", ">= 0"),
        ("--shutdown-timeout", "inf", ">= 0"),
        ("--max-blocking-time", "nan", "from 0 to 86400"),
        ("--max-blocking-time", "inf", "from 0 to 86400"),
        ("--max-blocking-time", "1e308", "from 0 to 86400"),
        ("--max-blocking-time", "86400.5", "from 0 to 86400"),
        ("--shutdown-timeout", "\u0663", ">= 0"),
        ("--shutdown-timeout", "1_0", ">= 0"),
        ("--shutdown-timeout", "-1", ">= 0"),
    ],
)
def test_seconds_must_be_plain_finite_numbers(option, value, expected):
    result = cli(option, value)
    assert result.returncode == 2, result.stdout
    assert result.stdout.splitlines()[-1] == (
        f"amqp-dispatcher: error: argument {option}: expected seconds {expected}, got {value!r}"
    )


@pytest.fixture
def module_dir(tmp_path):
    """A directory for modules written by the test, importable by the daemon."""
    directory = tmp_path / "modules"
    directory.mkdir()
    return directory


@pytest.mark.parametrize("mode", [("--validate",), ()])
def test_a_module_that_exits_at_import_is_a_load_problem(daemon_factory, module_dir, mode):
    (module_dir / "exits_at_import.py").write_text("import sys\n\nsys.exit(0)\n")
    config = consumer_config("jobs")
    config["consumers"][0]["consumer"] = "exits_at_import:Consumer"
    daemon = daemon_factory(config, RABBITMQ_URL=DEAD_URL)
    daemon.env["PYTHONPATH"] = os.pathsep.join([str(module_dir), daemon.env["PYTHONPATH"]])
    marked = "error: " if mode else ""  # --validate marks it, the log's level says it
    assert_clean_failure(
        daemon.run(*mode),
        f"{daemon.config_path}: {marked}consumers[0].consumer: cannot import 'exits_at_import': "
        "SystemExit: 0",
    )


def test_a_startup_handler_that_exits_stops_the_start(daemon_factory):
    config = consumer_config("jobs")
    config["startup_handler"] = "oddities:exit_at_startup"
    daemon = daemon_factory(config, RABBITMQ_URL=DEAD_URL)
    result = daemon.run()
    assert result.returncode == 1, result.stdout
    assert (
        f"{daemon.config_path}: startup_handler: oddities:exit_at_startup raised SystemExit(0)"
        in result.stdout
    )
    assert_tracebacks_are_logged(result.stdout)


def test_sigint_during_the_start_stops_without_a_traceback(daemon_factory):
    config = consumer_config("jobs")
    config["startup_handler"] = "oddities:wait_for_sigint"
    daemon = daemon_factory(config, RABBITMQ_URL=DEAD_URL).start()
    wait_for(lambda: daemon.records("startup"), what="the startup handler")
    assert daemon.stop(signal.SIGINT) == 130
    assert "WARNING [amqp-dispatcher] interrupted by SIGINT (KeyboardInterrupt)" in daemon.log()
    assert "Traceback" not in daemon.log()


def test_an_unexpected_error_is_logged_with_its_traceback(daemon_factory):
    config = consumer_config("jobs")
    config["startup_handler"] = "oddities:simulate_a_bug"
    result = daemon_factory(config, RABBITMQ_URL=DEAD_URL).run()
    assert result.returncode == 1, result.stdout
    lines = result.stdout.splitlines()
    error = ": stopping on an unexpected error: RuntimeError: simulated bug"
    starts = [i for i, line in enumerate(lines) if line.endswith(error)]
    assert len(starts) == MAX_START_FAILURES  # a worker's bug: restarted, then given up
    for index in starts:
        assert lines[index + 1] == "Traceback (most recent call last):"
        assert lines[index + 1 :].index("RuntimeError: simulated bug") > 0
    assert lines[-2].endswith(
        f"worker 1 failed to start {MAX_START_FAILURES} times in a row, the last time: "
        f"exited with status {EXIT_RESTART}; stopping"
    )
    assert_tracebacks_are_logged(result.stdout)


def test_a_consumer_that_exits_when_created_stops_the_start(daemon_factory):
    config = consumer_config("jobs")
    config["consumers"][0]["consumer"] = "oddities:ExitsWhenCreated"
    daemon = daemon_factory(config, RABBITMQ_URL=DEAD_URL)
    assert_clean_failure(
        daemon.run(),
        f"{daemon.config_path}: consumers[0]: cannot create oddities:ExitsWhenCreated: "
        "SystemExit(0)",
        status=EXIT_FAILURE,
    )


def run_for_stderr(daemon, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        daemon.command(*args), capture_output=True, text=True, env=daemon.env, timeout=30
    )


def test_validate_warns_that_prefetch_0_is_unlimited(daemon_factory):
    daemon = daemon_factory(
        consumer_config("jobs", prefetch=0, durable=True), RABBITMQ_URL=DEAD_URL
    )
    result = run_for_stderr(daemon, "--validate")
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"{daemon.config_path}: warning: {UNLIMITED} at once\n"
    assert result.stdout.startswith(f"{daemon.config_path}: OK")


def test_validate_warns_about_what_rabbitmq_4_refuses(daemon_factory):
    config = consumer_config("jobs", x_queue_type="quorum", durable=True)
    config["queues"].append(
        {"queue": "old", "durable": False, "arguments": {"x-queue-mode": "lazy"}}
    )
    daemon = daemon_factory(config, RABBITMQ_URL=DEAD_URL)
    path = str(daemon.config_path)
    result = run_for_stderr(daemon, "--validate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{path}: OK")
    lines = result.stderr.splitlines()
    assert [line.split(": ", 3)[:3] for line in lines] == [
        [path, "warning", "queues[0].x_queue_type"],
        [path, "warning", "queues[1].arguments.x-queue-mode"],
        [path, "warning", "queues[1].durable"],
    ]
    for line, version in zip(lines, ("RabbitMQ 4.0", "RabbitMQ 4.3", "RabbitMQ 4.3"), strict=True):
        assert version in line


def test_validate_shows_warnings_and_errors_together_each_marked(daemon_factory):
    config = consumer_config("jobs", prefetch=0, bindings=[{"exchange": "events"}], durable=True)
    config["consumers"][0]["options"] = {"colour": "blue"}
    daemon = daemon_factory(config, RABBITMQ_URL=DEAD_URL)
    path = str(daemon.config_path)
    result = run_for_stderr(daemon, "--validate")
    assert result.returncode == EXIT_CONFIG
    assert result.stdout == ""
    assert [line.split(": ", 2)[:2] for line in result.stderr.splitlines()] == [
        [path, "warning"],
        [path, "warning"],
        [path, "error"],
    ]
    assert "queues[0].bindings[0].exchange: exchange 'events'" in result.stderr
    assert f"warning: {UNLIMITED}" in result.stderr
    assert "error: consumers[0].options: scripted:Scripted takes no option 'colour'" in (
        result.stderr
    )


SECRET = "hunter2-" + "x" * 300  # neither a number, a boolean nor a name that fits


def test_a_value_from_the_environment_is_never_shown(daemon_factory):
    config = consumer_config("${AMQPD_TEST_SECRET}", count="${AMQPD_TEST_SECRET}")
    config["consumers"][0]["prefetch_count"] = "${AMQPD_TEST_SECRET}"
    config["exchanges"] = [{"exchange": "e", "type": "${AMQPD_TEST_SECRET}"}]
    daemon = daemon_factory(config, RABBITMQ_URL=DEAD_URL, AMQPD_TEST_SECRET=SECRET)
    path = daemon.config_path
    for result in (run_for_stderr(daemon, "--validate"), run_for_stderr(daemon)):
        assert result.returncode == EXIT_CONFIG
        assert "hunter2" not in result.stdout + result.stderr
        assert (
            f"{path}: consumers[0].consumer_count: expected an integer from 1 to 10000, "
            "got the value of ${AMQPD_TEST_SECRET} (not shown)"
        ) in result.stderr.replace(": error: ", ": ")


def test_an_option_value_from_the_environment_is_never_shown(daemon_factory):
    config = consumer_config("jobs")
    config["consumers"][0]["consumer"] = "annotated:Typed"
    config["consumers"][0]["options"] = {"failure_rate": "${AMQPD_TEST_SECRET}"}
    daemon = daemon_factory(config, RABBITMQ_URL=DEAD_URL, AMQPD_TEST_SECRET="hunter2")
    problem = (
        "consumers[0].options.failure_rate: expected float, "
        "got the value of ${AMQPD_TEST_SECRET} (not shown)"
    )
    for result in (run_for_stderr(daemon, "--validate"), run_for_stderr(daemon)):
        assert result.returncode == EXIT_CONFIG
        assert "hunter2" not in result.stdout + result.stderr
        assert problem in result.stderr


def test_an_option_value_its_annotation_refuses_stops_validate_and_the_start(daemon_factory):
    config = consumer_config("jobs", durable=True)
    config["consumers"][0]["consumer"] = "annotated:Typed"
    config["consumers"][0]["options"] = {"failure_rate": "high"}
    daemon = daemon_factory(config, RABBITMQ_URL=DEAD_URL)
    problem = "consumers[0].options.failure_rate: expected float, got 'high'"
    result = run_for_stderr(daemon, "--validate")
    assert result.returncode == EXIT_CONFIG
    assert result.stderr == f"{daemon.config_path}: error: {problem}\n"
    start = daemon.run()
    assert_clean_failure(start, f"{daemon.config_path}: {problem}")
    assert "connect" not in start.stdout


def test_validate_shows_warnings_beside_errors_in_the_yaml(daemon_factory):
    config = consumer_config(
        "jobs", prefetch=0, bindings=[{"exchange": "events"}, {"exchange": ""}], durable=True
    )
    config["consumers"].append({"consumer": "scripted:Scripted", "queue": "jobs", "bad": 1})
    daemon = daemon_factory(config, RABBITMQ_URL=DEAD_URL)
    path = daemon.config_path
    result = run_for_stderr(daemon, "--validate")
    assert result.returncode == EXIT_CONFIG
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith(
        f"{path}: warning: queues[0].bindings[0].exchange: exchange 'events' is not declared"
    )
    assert lines[1:] == [
        f"{path}: warning: {UNLIMITED} at once",
        f"{path}: error: queues[0].bindings[1].exchange: expected a non-empty string, got ''",
        f"{path}: error: consumers[1].bad: unknown key",
    ]
