"""`consumers[].options` checked against each consumer class's constructor, as `--validate` and
the start do (loader.py), without a broker."""

import pytest

from amqpdispatcher.config import parse_config
from amqpdispatcher.loader import LoadError, load_consumer_classes


def check(*entries: tuple[str, dict]) -> list[str]:
    """The option problems of consumer entries (class in constructors.py, options)."""
    return problems(*((f"constructors:{name}", options) for name, options in entries))


def problems(*entries: tuple[str, dict]) -> list[str]:
    """The option problems of consumer entries (module:Class, options)."""
    consumers = [{"consumer": path, "queue": "q", "options": options} for path, options in entries]
    try:
        load_consumer_classes(parse_config({"consumers": consumers}, "cfg.yaml", {}))
    except LoadError as exc:
        return exc.problems
    return []


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("NoArguments", {}),
        ("Shop", {"shop": "north", "region": "eu"}),
        ("Shop", {"shop": "north", "retries": 1, "region": "eu", "dry_run": True}),
        ("AnyOptions", {"shop": "north", "colour": "blue", "size": [1]}),
        ("Unreadable", {"anything": 1}),  # not checked
    ],
)
def test_options_the_constructor_takes_pass(name, options):
    assert check((name, options)) == []


def test_an_option_the_constructor_does_not_take():
    assert check(("NoArguments", {"colour": "blue", "size": 2})) == [
        "consumers[0].options: constructors:NoArguments takes no option 'colour'",
        "consumers[0].options: constructors:NoArguments takes no option 'size'",
    ]


def test_a_parameter_no_option_gives():
    assert check(("Shop", {"retries": 2})) == [
        "consumers[0].options: constructors:Shop needs option 'shop'",
        "consumers[0].options: constructors:Shop needs option 'region'",
    ]


def test_a_positional_only_parameter_is_no_option():
    needs = (
        "options: constructors:PositionalOnly needs a positional argument 'shop', which no option"
        " can give"
    )
    assert check(("PositionalOnly", {}), ("PositionalOnly", {"shop": "north"})) == [
        f"consumers[0].{needs}",
        "consumers[1].options: constructors:PositionalOnly takes no option 'shop'",
        f"consumers[1].{needs}",
    ]


def test_each_entry_of_the_same_class_is_checked_and_every_problem_listed():
    assert check(
        ("Shop", {"shop": "north", "region": "eu"}),
        ("Shop", {"region": "eu", "colour": "red"}),
        ("NoArguments", {"colour": "red"}),
        ("AnyOptions", {}),
    ) == [
        "consumers[1].options: constructors:Shop takes no option 'colour'",
        "consumers[1].options: constructors:Shop needs option 'shop'",
        "consumers[2].options: constructors:NoArguments takes no option 'colour'",
        "consumers[3].options: constructors:AnyOptions needs option 'shop'",
    ]


def test_option_problems_come_with_import_problems():
    consumers = [
        {"consumer": "constructors:Missing", "queue": "q"},
        {"consumer": "constructors:Shop", "queue": "q"},
    ]
    with pytest.raises(LoadError) as raised:
        load_consumer_classes(parse_config({"consumers": consumers}, "cfg.yaml", {}))
    assert raised.value.problems == [
        "consumers[0].consumer: 'constructors' has no attribute 'Missing'",
        "consumers[1].options: constructors:Shop needs option 'shop'",
        "consumers[1].options: constructors:Shop needs option 'region'",
    ]


def check_typed(**options) -> list[str]:
    return problems(("annotated:Typed", options))


@pytest.mark.parametrize(
    "options",
    [
        {"failure_rate": 0.5, "count": 2, "name": "n", "enabled": True, "raw": b"x"},
        {"failure_rate": 1},  # a float takes an int
        {"limit": None, "either": "x", "maybe": None},
        {"limit": 3, "either": 4, "maybe": 2},
        {"hosts": ["a", "b"], "weights": {"a": 1, "b": 0.5}, "pair": ["a", 1], "many": [1, 2, 3]},
        {"hosts": [], "weights": {}, "many": []},
        {"anything": {"x": [1]}, "mode": "slow", "untyped": object()},
        {"unknown": "whatever", "later": "not a set"},  # skipped: unresolvable, not checked
        {"implicit": None},  # `x: float = None` takes None
    ],
)
def test_option_values_their_annotations_take_pass(options):
    assert check_typed(**options) == []


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"failure_rate": "high"}, "failure_rate: expected float, got 'high'"),
        ({"failure_rate": True}, "failure_rate: expected float, got True"),
        ({"count": True}, "count: expected int, got True"),
        ({"count": 1.5}, "count: expected int, got 1.5"),
        ({"name": 3}, "name: expected str, got 3"),
        ({"enabled": "yes"}, "enabled: expected bool, got 'yes'"),
        ({"raw": "x"}, "raw: expected bytes, got 'x'"),
        ({"limit": "x"}, "limit: expected Optional[int], got 'x'"),
        ({"either": 1.5}, "either: expected Union[int, str], got 1.5"),
        ({"maybe": "x"}, "maybe: expected float | None, got 'x'"),
        ({"hosts": "a"}, "hosts: expected list, got 'a'"),
        ({"hosts": ["a", 3]}, "hosts[1]: expected str, got 3"),
        ({"weights": {"a": "x"}}, "weights.a: expected float, got 'x'"),
        ({"weights": {1: 1.0}}, "weights.1 (the key): expected str, got 1"),
        ({"weights": [1]}, "weights: expected dict, got a list"),
        ({"pair": ["a"]}, "pair: expected 2 items, got 1"),
        ({"pair": ["a", "b"]}, "pair[1]: expected int, got 'b'"),
        ({"many": [1, "x"]}, "many[1]: expected int, got 'x'"),
        ({"mode": "medium"}, "mode: expected Literal['fast', 'slow'], got 'medium'"),
        ({"implicit": "x"}, "implicit: expected float, got 'x'"),
    ],
)
def test_an_option_value_its_annotation_refuses(options, problem):
    assert check_typed(**options) == [f"consumers[0].options.{problem}"]


def test_every_refused_option_is_listed():
    assert check_typed(failure_rate="high", count="two") == [
        "consumers[0].options.failure_rate: expected float, got 'high'",
        "consumers[0].options.count: expected int, got 'two'",
    ]


def test_the_annotation_of_keyword_arguments_applies_to_each():
    options = {"a": 1, "b": "x", "args": "y"}  # `args` too: *args takes no option
    consumers = [{"consumer": "annotated:Extra", "queue": "q", "options": options}]
    with pytest.raises(LoadError) as raised:
        load_consumer_classes(parse_config({"consumers": consumers}, "cfg.yaml", {}))
    assert raised.value.problems == [
        "consumers[0].options.b: expected int, got 'x'",
        "consumers[0].options.args: expected int, got 'y'",
    ]


def test_a_substituted_option_value_is_named_never_shown():
    consumers = [
        {
            "consumer": "annotated:Typed",
            "queue": "q",
            "options": {"failure_rate": "${RATE}", "count": ["${RATE}"], "weights": "${RATE}"},
        }
    ]
    config = parse_config({"consumers": consumers}, "cfg.yaml", {"RATE": "s3cr3t"})
    with pytest.raises(LoadError) as raised:
        load_consumer_classes(config)
    assert raised.value.problems == [
        "consumers[0].options.failure_rate: expected float, got the value of ${RATE} (not shown)",
        "consumers[0].options.count: expected int, got a list",
        "consumers[0].options.weights: expected dict, got the value of ${RATE} (not shown)",
    ]


def test_a_consumer_path_from_the_environment_is_named_never_shown():
    consumers = [{"consumer": "${CLASS}", "queue": "q", "options": {"colour": "blue"}}]
    config = parse_config({"consumers": consumers}, "cfg.yaml", {"CLASS": "constructors:Shop"})
    with pytest.raises(LoadError) as raised:
        load_consumer_classes(config)
    assert raised.value.problems[0] == (
        "consumers[0].options: the value of ${CLASS} (not shown) takes no option 'colour'"
    )
    assert not any("Shop" in problem for problem in raised.value.problems)


@pytest.mark.parametrize("path", ["no_such_module:Shop", "constructors:NoSuch"])
def test_an_import_path_from_the_environment_that_fails_is_named_never_shown(path):
    consumers = [{"consumer": "${CLASS}", "queue": "q"}]
    config = parse_config({"consumers": consumers}, "cfg.yaml", {"CLASS": path})
    with pytest.raises(LoadError) as raised:
        load_consumer_classes(config)
    (problem,) = raised.value.problems
    assert problem.startswith("consumers[0].consumer: ")
    assert "${CLASS}" in problem
    assert "no_such" not in problem.lower() and "NoSuch" not in problem
