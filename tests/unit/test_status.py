"""`amqp-dispatcher status` without a broker: rates from two scrapes, the table, the problems,
where the management API is looked for, and its usage errors."""

import subprocess
import sys

import pytest
from cli_output import assert_usage_error

from amqpdispatcher.config import parse_config
from amqpdispatcher.inspection.daemon import DaemonState
from amqpdispatcher.inspection.management import ManagementURLError, management_api
from amqpdispatcher.inspection.queues import QueueRow, configured_queues
from amqpdispatcher.inspection.rates import queue_numbers, rates
from amqpdispatcher.inspection.report import Status, screen, table
from amqpdispatcher.url import parse_url

(TARGET,) = parse_url("amqp://ops:s%40cret@rabbit1:5673/orders%2Fprod")


def metrics(deliveries: float, acks: float, in_flight: float, other: float = 0) -> str:
    """A /metrics text: queue q consumed by two classes, a gauge per worker, and queue r."""
    return f"""# TYPE amqp_dispatcher_deliveries_total counter
amqp_dispatcher_deliveries_total{{consumer="a:A",queue="q"}} {deliveries}
amqp_dispatcher_deliveries_total{{consumer="b:B",queue="q"}} 2.0
amqp_dispatcher_deliveries_total{{consumer="a:A",queue="r"}} {other}
# TYPE amqp_dispatcher_answers_total counter
amqp_dispatcher_answers_total{{answer="ack",consumer="a:A",queue="q"}} {acks}
amqp_dispatcher_answers_total{{answer="reject",consumer="b:B",queue="q"}} 1.0
# TYPE amqp_dispatcher_in_flight gauge
amqp_dispatcher_in_flight{{consumer="a:A",pid="10",queue="q",worker="1"}} {in_flight}
amqp_dispatcher_in_flight{{consumer="a:A",pid="11",queue="q",worker="2"}} 1.0
# TYPE amqp_dispatcher_instances gauge
amqp_dispatcher_instances{{consumer="a:A",pid="10",queue="q",worker="1"}} 4.0
# TYPE amqp_dispatcher_workers gauge
amqp_dispatcher_workers 2.0
"""


def test_rates_are_the_growth_of_each_queue_summed_over_classes_and_workers():
    first = queue_numbers(metrics(deliveries=10, acks=8, in_flight=0))
    second = queue_numbers(metrics(deliveries=30, acks=27, in_flight=2, other=3))
    got = rates(first, second, 2.0)
    assert set(got) == {"q", "r"}
    q = got["q"]
    assert q.counted == {
        "deliveries": 20,
        "ack": 19,
        "nack": 0,
        "reject": 0,
        "errors": 0,
        "retries": 0,
        "archived": 0,
    }
    assert q.per_second["deliveries"] == 10.0
    assert q.per_second["ack"] == 9.5
    assert (q.in_flight, q.instances) == (3, 4)  # the second scrape's, over both workers
    assert got["r"].counted["deliveries"] == 3


def test_a_counter_that_went_down_was_reset_and_grew_by_all_it_has():
    first = queue_numbers(metrics(deliveries=50, acks=50, in_flight=0))
    second = queue_numbers(metrics(deliveries=4, acks=3, in_flight=0))
    assert rates(first, second, 1.0)["q"].counted["deliveries"] == 6  # 4 + b:B's 2, all of it


def test_a_queue_new_in_the_second_scrape_grew_from_zero():
    second = queue_numbers(metrics(deliveries=5, acks=0, in_flight=0))
    assert rates({}, second, 1.0)["q"].counted["deliveries"] == 7


def test_not_metrics_is_refused():
    with pytest.raises(ValueError):
        queue_numbers("<html>not found</html>\n")


def test_table_aligns_names_left_and_numbers_right():
    lines = table(("QUEUE", "READY", "WHO"), [("a", "1", "x:X"), ("long.name", "1234", "")], (0, 2))
    assert lines == [
        "QUEUE      READY  WHO",
        "a              1  x:X",
        "long.name   1234",
    ]


def test_the_screen_shows_retry_queues_under_their_queue_then_the_problems():
    config = parse_config(
        {
            "consumers": [
                {
                    "consumer": "app:A",
                    "queue": "q",
                    "retry": {"max_retries": 3, "backoff": [5, 30]},
                },
                {"consumer": "app:B", "queue": "q"},
                {"consumer": "app:A", "queue": "gone"},
            ]
        },
        "config.yml",
    )
    rows = configured_queues(config)
    q, gone = rows
    assert [queue.name for queue in q.retry] == ["q.delay.5s", "q.delay.30s", "q.archive"]
    q.ready, q.consumers = 12, 0
    for queue in q.retry:
        queue.ready, queue.consumers = 1, 0
    q.retry[2].unacked = 0
    gone.absent = "does not exist"
    note = "unacked unknown: why"
    assert screen(Status(rows, "http://rabbit1:15672", note, None)) == [
        "QUEUE            READY  UNACKED  CONSUMERS  CONSUMER CLASSES",
        "q                   12        ?          0  app:A, app:B",
        "  q.delay.5s         1        ?          0  (delay)",
        "  q.delay.30s        1        ?          0  (delay)",
        "  q.archive          1        0          0  (archive)",
        "gone           missing        -          -  app:A",
        "",
        "note: unacked unknown: why",
        "",
        "problem: queue 'q': no consumer",
        "problem: queue 'gone': does not exist",
    ]


def test_a_daemon_not_ready_is_a_problem_saying_which_workers_and_why():
    readiness = {
        "ready": False,
        "workers": {
            "1": {
                "ready": False,
                "connected": True,
                "consuming": {"q": False, "r": True},
                "publishing_blocked": True,
            },
            "2": {"ready": False, "running": False},
            "3": {"ready": True, "connected": True, "consuming": {}, "publishing_blocked": False},
        },
    }
    daemon = DaemonState("http://d:9102", status=503, readiness=readiness)
    queue = QueueRow("q", classes=["app:A"], ready=0, consumers=1)
    assert Status([queue], "http://rabbit1:15672", None, daemon).problems() == [
        "daemon http://d:9102: not ready (HTTP 503): worker 1: not consuming 'q', publishing "
        "blocked; worker 2: not running"
    ]
    unreachable = DaemonState("http://d:9102", error="timed out")
    assert Status([queue], "", None, unreachable).problems() == [
        "daemon http://d:9102: not reachable: timed out"
    ]
    ready = DaemonState("http://d:9102", status=200, readiness={"ready": True, "workers": {}})
    assert Status([queue], "", None, ready).problems() == []


def test_the_management_api_is_derived_from_the_first_host_of_rabbitmq_url(monkeypatch):
    monkeypatch.delenv("RABBITMQ_MANAGEMENT_URL", raising=False)
    api = management_api(None, TARGET)
    assert (api.base, api.username, api.password) == ("http://rabbit1:15672", "ops", "s@cret")
    assert api.queue_url("a b") == "http://rabbit1:15672/api/queues/orders%2Fprod/a%20b"
    (ipv6,) = parse_url("amqp://[::1]/")
    assert management_api(None, ipv6).queue_url("q") == "http://[::1]:15672/api/queues/%2F/q"


def test_a_given_management_url_wins_with_its_own_credentials_and_path(monkeypatch):
    monkeypatch.setenv("RABBITMQ_MANAGEMENT_URL", "https://env:e@mgmt:443/rabbit/")
    api = management_api(None, TARGET)
    assert (api.base, api.username, api.password) == ("https://mgmt:443/rabbit", "env", "e")
    given = management_api("http://mgmt.example:8080", TARGET)
    assert (given.base, given.username, given.password) == (
        "http://mgmt.example:8080",
        "ops",
        "s@cret",
    )
    assert given.headers() == {"Authorization": "Basic b3BzOnNAY3JldA=="}


def test_a_bad_management_url_in_the_environment_is_named(monkeypatch):
    monkeypatch.setenv("RABBITMQ_MANAGEMENT_URL", "rabbit1:15672")
    with pytest.raises(ManagementURLError, match="^RABBITMQ_MANAGEMENT_URL: expected http"):
        management_api(None, TARGET)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--http-url", "ftp://d:1"), "argument --http-url: expected http[s]://HOST[:PORT][/PATH]"),
        (("--management-url", "http://m:99999"), "argument --management-url: Port out of range"),
        (("--window", "0"), "argument --window: expected seconds from 0.1 to 3600, got '0'"),
    ],
)
def test_usage_errors(args, error):
    assert_usage_error("status", args, error)


def test_the_help_names_the_subcommand():
    command = [sys.executable, "-m", "amqpdispatcher", "--help"]
    usage = subprocess.run(command, capture_output=True, text=True).stdout
    assert "'amqp-dispatcher status'" in " ".join(usage.split())
