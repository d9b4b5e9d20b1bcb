"""The Grafana dashboard's queries (docs/grafana/amqp-dispatcher.json) against the /metrics of a
daemon run for real."""

from daemons import consumer_config
from dashboards import exported, load, panel_queries, problems, queries
from nodes import free_port
from test_http import get
from waiting import wait_for

PREFIX = "amqp_dispatcher_"


def exported_labels(broker, daemon_factory) -> dict[str, frozenset[str]]:
    """The label names of each sample name a daemon's /metrics shows, once it shows them all."""
    port = free_port()
    daemon = daemon_factory(consumer_config(broker.queue_name()))
    daemon.start("--http-port", str(port)).wait_ready()

    def scraped() -> dict | None:
        status, text = get(port, "/metrics")
        labels = exported(text) if status == 200 else {}
        return labels if f"{PREFIX}broker_info" in labels else None  # the last to come

    labels = wait_for(scraped, what="every metric exported")
    assert daemon.stop() == 0
    return labels


def test_every_metric_and_label_the_dashboard_queries_is_exported(broker, daemon_factory):
    assert problems(queries(load()), exported_labels(broker, daemon_factory)) == []


def test_the_dashboard_shows_every_metric_each_kept_to_the_chosen_queues(broker, daemon_factory):
    labels = exported_labels(broker, daemon_factory)
    found = panel_queries(load())
    shown = {metric for query in found for metric in query.metrics}
    assert sorted(name for name in labels if name.startswith(PREFIX) and name not in shown) == []
    for query in found:
        for selector in query.selectors:
            if "queue" in labels[selector.metric]:
                assert selector.keeps_to("queue"), f"{query.where}: {selector.metric}"
