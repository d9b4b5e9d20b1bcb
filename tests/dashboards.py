"""The Prometheus queries of a Grafana dashboard, read with a PromQL parser (promql-parser), and
checked against what a daemon's /metrics shows: every metric a query selects must be exported,
and every label it names must be a label of the metrics it applies to."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import promql_parser as promql
from prometheus_client.parser import text_string_to_metric_families

DASHBOARD = Path(__file__).parent.parent / "docs" / "grafana" / "amqp-dispatcher.json"
SCRAPE_LABELS = frozenset({"job", "instance"})  # added by Prometheus when it scrapes
# Grafana's interval variables, each with a duration it could stand for; any other variable is
# replaced by `placeholder(name)`.
INTERVALS = {"__rate_interval": "1m", "__interval": "15s", "__range": "6h"}
_VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::[^\]]*)?\]\]")
_LABEL_VALUES = re.compile(r"label_values\((?P<selector>.+),\s*(?P<label>\w+)\s*\)", re.DOTALL)


@dataclass
class Selector:
    """A vector selector of a query: its metric and its matchers."""

    metric: str
    matchers: list[promql.Matcher]

    def keeps_to(self, variable: str) -> bool:
        """Whether it matches the label named as the dashboard variable against its values:
        `queue=~"$queue"`."""
        return any(
            (m.name, m.op, m.value) == (variable, promql.MatchOp.Re, placeholder(variable))
            for m in self.matchers
        )


@dataclass
class Query:
    """What one query of the dashboard selects, and each label it names with the metrics that
    label must be one of (a matcher's, its selector's metric; a `by`'s, every metric
    aggregated)."""

    where: str
    selectors: list[Selector] = field(default_factory=list)
    labels: list[tuple[str, frozenset[str]]] = field(default_factory=list)

    @property
    def metrics(self) -> set[str]:
        return {selector.metric for selector in self.selectors}


def load() -> dict:
    return json.loads(DASHBOARD.read_text())


def panels(dashboard: dict) -> Iterator[dict]:
    """Every panel, those inside a row included (a collapsed row keeps its panels in it)."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def queries(dashboard: dict) -> list[Query]:
    return panel_queries(dashboard) + variable_queries(dashboard)


def panel_queries(dashboard: dict) -> list[Query]:
    return [
        read(target["expr"], f"panel {panel.get('title')!r} query {target.get('refId')}")
        for panel in panels(dashboard)
        for target in panel.get("targets", [])
    ]


def variable_queries(dashboard: dict) -> list[Query]:
    variables = dashboard.get("templating", {}).get("list", [])
    return [read_variable(variable) for variable in variables if variable.get("type") == "query"]


def read_variable(variable: dict) -> Query:
    """A query variable's label_values(selector, label): the only kind the checker reads."""
    where = f"variable {variable['name']!r}"
    text = variable["query"]
    text = text.get("query", "") if isinstance(text, dict) else text
    match = _LABEL_VALUES.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{where}: not a label_values(metric, label) query: {text!r}")
    query = read(match["selector"], where)
    query.labels.append((match["label"], frozenset(query.metrics)))
    return query


def read(expr: str, where: str) -> Query:
    """The selectors and labels of `expr`, its Grafana variables replaced first."""
    query = Query(where)
    try:
        tree = promql.parse(substitute(expr))
    except ValueError as error:
        raise ValueError(f"{where}: {error}: {expr!r}") from error
    _walk(tree, query)
    return query


def substitute(expr: str) -> str:
    def value(match: re.Match) -> str:
        name = next(group for group in match.groups() if group)
        return INTERVALS.get(name) or placeholder(name)

    return _VARIABLE.sub(value, expr)


def placeholder(name: str) -> str:
    """What a dashboard variable is replaced by: a label value it could have."""
    return f"{name}-1"


def _walk(node: object, query: Query) -> frozenset[str]:
    """The metrics `node` selects, its labels added to `query` on the way."""
    match node:
        case promql.VectorSelector():
            return frozenset({_selector(node, query)})
        case promql.MatrixSelector():
            return _walk(node.vector_selector, query)
        case promql.AggregateExpr():
            metrics = _walk(node.expr, query)
            if isinstance(node.param, promql.Expr):
                metrics |= _walk(node.param, query)
            if node.modifier is not None:
                query.labels += [(label, metrics) for label in node.modifier.labels]
            return metrics
        case promql.BinaryExpr():
            lhs, rhs = _walk(node.lhs, query), _walk(node.rhs, query)
            matching = node.modifier.matching if node.modifier else None
            if matching is not None:
                query.labels += [(label, lhs | rhs) for label in matching.labels]
            if node.modifier and node.modifier.group_labels:
                one = rhs if node.modifier.card == promql.VectorMatchCardinality.ManyToOne else lhs
                query.labels += [(label, one) for label in node.modifier.group_labels]
            return lhs | rhs
        case promql.Call():
            return frozenset().union(*(_walk(arg, query) for arg in node.args))
        case promql.ParenExpr() | promql.UnaryExpr() | promql.SubqueryExpr():
            return _walk(node.expr, query)
    return frozenset()  # a number or a string


def _selector(node: promql.VectorSelector, query: Query) -> str:
    matchers = [*node.matchers.matchers, *(m for group in node.matchers.or_matchers for m in group)]
    names = [m.value for m in matchers if m.name == "__name__" and m.op == promql.MatchOp.Equal]
    metric = node.name or next(iter(names), None)
    if metric is None:
        raise ValueError(f"{query.where}: a selector without a metric name: {node}")
    labelled = [m for m in matchers if m.name != "__name__"]
    query.selectors.append(Selector(metric, labelled))
    query.labels += [(m.name, frozenset({metric})) for m in labelled]
    return metric


def exported(text: str) -> dict[str, frozenset[str]]:
    """The label names of each sample name of a /metrics page (a counter's `x_total`, a
    histogram's `x_bucket`, `x_sum`, `x_count`: the names queries select)."""
    labels: dict[str, frozenset[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels[sample.name] = labels.get(sample.name, frozenset()) | sample.labels.keys()
    return labels


def problems(found: list[Query], labels: Mapping[str, frozenset[str]]) -> list[str]:
    """What the queries select that is not exported: metrics, and labels of metrics."""
    wrong = []
    for query in found:
        wrong += [f"{query.where}: no metric {m}" for m in sorted(query.metrics - labels.keys())]
        for label, metrics in query.labels:
            for metric in sorted(metrics & labels.keys()):
                if label not in labels[metric] | SCRAPE_LABELS:
                    wrong.append(f"{query.where}: {metric} has no label {label}")
    return list(dict.fromkeys(wrong))
