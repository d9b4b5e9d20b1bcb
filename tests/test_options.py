"""`consumers[].options` checked against each consumer class's constructor, as `--validate` and
the start do (loader.py), without a broker."""

import pytest

from amqpdispatcher.config import parse_config
from amqpdispatcher.loader import LoadError, load_consumer_classes


def check(*entries: tuple[str, dict]) -> list[str]:
    """The option problems of consumer entries (class in constructors.py, options)."""
    consumers = [
        {"consumer": f"constructors:{name}", "queue": "q", "options": options}
        for name, options in entries
    ]
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
