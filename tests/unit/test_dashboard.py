"""The Grafana dashboard (docs/grafana/amqp-dispatcher.json) as a file, and the checker of its
queries (tests/dashboards.py) on a small dashboard of mistakes; tests/test_dashboard.py checks
the queries against a daemon's /metrics."""

from collections import Counter

from dashboards import exported, load, panel_queries, panels, problems, queries

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
# What issue 21 asks the dashboard to show: rates by outcome, duration percentiles, in-flight vs
# instances, retries and archives by queue, reconnections, blocked-loop warnings, consumer
# timeouts; and the rest of the daemon's metrics.
SHOWN = {
    "amqp_dispatcher_answers_total",
    "amqp_dispatcher_consume_errors_total",
    "amqp_dispatcher_consume_duration_seconds_bucket",
    "amqp_dispatcher_in_flight",
    "amqp_dispatcher_instances",
    "amqp_dispatcher_retries_total",
    "amqp_dispatcher_archived_total",
    "amqp_dispatcher_reconnects_total",
    "amqp_dispatcher_event_loop_blocked_seconds_total",
    "amqp_dispatcher_consumer_timeouts_total",
    "amqp_dispatcher_consumer_cancellations_total",
    "amqp_dispatcher_deliveries_total",
    "amqp_dispatcher_time_limits_total",
    "amqp_dispatcher_connected",
    "amqp_dispatcher_publishing_blocked",
    "amqp_dispatcher_publishes_total",
    "amqp_dispatcher_broker_info",
}

METRICS = """\
# TYPE amqp_dispatcher_deliveries counter
amqp_dispatcher_deliveries_total{consumer="app:C",queue="orders"} 3.0
# TYPE amqp_dispatcher_consume_duration_seconds histogram
amqp_dispatcher_consume_duration_seconds_bucket{consumer="app:C",le="0.5",queue="orders"} 3.0
amqp_dispatcher_consume_duration_seconds_bucket{consumer="app:C",le="+Inf",queue="orders"} 3.0
amqp_dispatcher_consume_duration_seconds_sum{consumer="app:C",queue="orders"} 0.2
amqp_dispatcher_consume_duration_seconds_count{consumer="app:C",queue="orders"} 3.0
# TYPE amqp_dispatcher_in_flight gauge
amqp_dispatcher_in_flight{consumer="app:C",pid="7",queue="orders",worker="1"} 0.0
# TYPE amqp_dispatcher_connected gauge
amqp_dispatcher_connected{pid="7",worker="1"} 1.0
"""


def dashboard(*exprs: str, variable: str = "label_values(amqp_dispatcher_connected, job)") -> dict:
    """A dashboard of `exprs`, the first in a panel of its own, the others in a collapsed row."""
    first, *rest = ({"refId": chr(65 + n), "expr": expr} for n, expr in enumerate(exprs))
    row = {"id": 2, "type": "row", "panels": [{"id": 3, "title": "inner", "targets": rest}]}
    return {
        "panels": [{"id": 1, "title": "outer", "targets": [first]}, row],
        "templating": {"list": [{"name": "job", "type": "query", "query": {"query": variable}}]},
    }


def test_the_checker_passes_queries_of_exported_metrics_and_their_labels():
    good = dashboard(
        'sum by (queue) (rate(amqp_dispatcher_deliveries_total{job=~"$job"}[$__rate_interval]))',
        "histogram_quantile(0.99, sum by (queue, le) "
        "(rate(amqp_dispatcher_consume_duration_seconds_bucket[5m])))",
        'sum without (worker, pid) (amqp_dispatcher_in_flight{instance=~"${instance:regex}"})',
        "sum by (queue) (rate(amqp_dispatcher_consume_duration_seconds_sum[$__interval]))"
        " / on (queue) sum by (queue) (rate(amqp_dispatcher_consume_duration_seconds_count[1m]))",
    )
    assert problems(queries(good), exported(METRICS)) == []


def test_the_checker_catches_a_wrong_metric_and_wrong_labels_wherever_they_are():
    wrong = dashboard(
        "rate(amqp_dispatcher_delivery_total[$__rate_interval])",
        "sum by (worker) (rate(amqp_dispatcher_deliveries_total[5m]))",
        'amqp_dispatcher_connected{queue=~"$queue"}',
        "amqp_dispatcher_in_flight / on (consumer) amqp_dispatcher_connected",
        variable="label_values(amqp_dispatcher_connected, answer)",
    )
    assert problems(queries(wrong), exported(METRICS)) == [
        "panel 'outer' query A: no metric amqp_dispatcher_delivery_total",
        "panel 'inner' query B: amqp_dispatcher_deliveries_total has no label worker",
        "panel 'inner' query C: amqp_dispatcher_connected has no label queue",
        "panel 'inner' query D: amqp_dispatcher_connected has no label consumer",
        "variable 'job': amqp_dispatcher_connected has no label answer",
    ]


def test_the_dashboard_shows_what_the_issue_asks_for():
    shown = {metric for query in panel_queries(load()) for metric in query.metrics}
    assert shown >= SHOWN


def test_every_panel_has_an_id_of_its_own_and_queries_the_chosen_prometheus():
    board = load()
    ids = Counter(panel["id"] for panel in panels(board))
    assert [id_ for id_, count in ids.items() if count > 1] == []
    variables = {variable["name"]: variable for variable in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    graphs = [panel for panel in panels(board) if panel["type"] != "row"]
    assert graphs
    for panel in graphs:
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert all(target["datasource"] == DATASOURCE for target in panel["targets"])
    for name in ("job", "instance", "queue"):
        assert variables[name]["datasource"] == DATASOURCE
        assert variables[name]["multi"] and variables[name]["includeAll"], name


def test_every_panel_query_keeps_to_the_chosen_jobs_and_instances():
    """tests/test_dashboard.py checks $queue, on the metrics labelled by queue."""
    for query in panel_queries(load()):
        for selector in query.selectors:
            assert selector.keeps_to("job"), f"{query.where}: {selector.metric}"
            assert selector.keeps_to("instance"), f"{query.where}: {selector.metric}"
