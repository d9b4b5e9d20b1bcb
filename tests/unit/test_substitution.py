"""Environment references in one string: ${NAME}, ${NAME:-default}, and $${ for a literal ${."""

import copy

import pytest

from amqpdispatcher.substitution import (
    Substituted,
    SubstitutionError,
    expand,
    hidden,
    shown,
    suffixed,
)

ENV = {"HOST": "db.local", "PORT": "5432", "EMPTY": "", "_X1": "x"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${HOST}", "db.local"),
        ("${_X1}", "x"),
        ("postgres://${HOST}:${PORT}/app", "postgres://db.local:5432/app"),
        ("${EMPTY}", ""),  # set but empty: empty, as in the shell
        ("${UNSET:-fallback}", "fallback"),
        ("${EMPTY:-fallback}", "fallback"),  # ':-' takes the default for empty too
        ("${HOST:-fallback}", "db.local"),
        ("${UNSET:-}", ""),
        ("${UNSET:-a b:c-d $x {y}", "a b:c-d $x {y"),  # the default runs to the first }
        ("${UNSET:-a}b}", "ab}"),
        ("$${HOST}", "${HOST}"),
        ("$${", "${"),
        ("a $${HOST} ${HOST}", "a ${HOST} db.local"),
        ("$$${HOST}", "$${HOST}"),  # the leftmost '$${' is the escape
        ("$$$${HOST}", "$$${HOST}"),
    ],
)
def test_references_are_replaced(text, expected):
    result = expand(text, ENV)
    assert result == expected
    assert isinstance(result, Substituted)
    assert result.source == text


@pytest.mark.parametrize("text", ["plain", "", "$HOST", "$$", "cost: $5", "{HOST}", "$ {HOST}"])
def test_text_without_references_is_returned_as_it_is(text):
    result = expand(text, ENV)
    assert result == text
    assert type(result) is str


@pytest.mark.parametrize(
    ("text", "single"),
    [
        ("${HOST}", True),
        ("${UNSET:-4}", True),
        ("${EMPTY}", True),
        ("${HOST}${PORT}", False),
        (" ${HOST}", False),
        ("${HOST} ", False),
        ("$${HOST}", False),
        ("${UNSET:-a}b}", False),
    ],
)
def test_single_says_whether_the_text_is_one_reference_and_nothing_else(text, single):
    assert expand(text, ENV).single is single


def test_an_unset_variable_without_default_is_a_problem():
    with pytest.raises(SubstitutionError) as raised:
        expand("${DB_USER}:${HOST}@${DB_PASSWORD}", ENV)
    assert raised.value.problems == [
        "environment variable DB_USER is not set (write ${DB_USER:-...} to give a default)",
        "environment variable DB_PASSWORD is not set (write ${DB_PASSWORD:-...} to give a default)",
    ]


@pytest.mark.parametrize(
    "reference",
    [
        "${}",
        "${1HOST}",
        "${HOST-x}",
        "${HOST:=x}",
        "${HOST:?}",
        "${HOST:+x}",
        "${ HOST}",
        "${HOST }",
        "${HO-ST}",
        "${H\u00f6ST}",
        "${UNSET:-${HOST}",  # no nesting
    ],
)
def test_other_forms_are_problems(reference):
    with pytest.raises(SubstitutionError) as raised:
        expand(f"a {reference} b", ENV)
    assert raised.value.problems == [
        f"bad environment reference {reference!r}: expected ${{NAME}} or ${{NAME:-default}}"
        " (write $${ for a literal ${)"
    ]


@pytest.mark.parametrize("text", ["${HOST", "ok ${HOST} then ${PORT", "${"])
def test_an_unclosed_reference_is_a_problem(text):
    with pytest.raises(SubstitutionError) as raised:
        expand(text, ENV)
    unclosed = text[text.rindex("${") :]
    assert raised.value.problems == [
        f"{unclosed!r} has no closing '}}' (write $${{ for a literal ${{)"
    ]


def test_a_long_bad_reference_is_cut_short():
    with pytest.raises(SubstitutionError) as raised:
        expand("${" + "x" * 500, ENV)
    (problem,) = raised.value.problems
    assert len(problem) < 120


def test_shown_names_a_substituted_value_by_its_source():
    assert shown(expand("${PORT}", ENV)) == "the value of ${PORT} (not shown)"
    assert shown(expand("a:${HOST}", ENV)) == "the value of a:${HOST} (not shown)"
    assert shown("plain") == "'plain'"


def test_hidden_names_substituted_values_inside_other_text():
    host = expand("${HOST}", ENV)
    reply = "NOT_FOUND - no queue 'db.local' in vhost '/'"
    assert hidden(reply, [host, "plain"]) == (
        "NOT_FOUND - no queue '<the value of ${HOST}>' in vhost '/'"
    )


def test_a_copy_of_a_substituted_value_is_a_plain_string():
    copied = copy.deepcopy({"a": [expand("${HOST}", ENV)]})
    assert copied == {"a": ["db.local"]}
    assert type(copied["a"][0]) is str
    assert type(suffixed(expand("${HOST}", ENV), ".archive")) is Substituted
