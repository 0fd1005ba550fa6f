"""Literal text: parsing, canonical form, type-strict equality, argument lists."""

import time

import pytest

from azr.tasks.literals import (
    LiteralError,
    canonical_literal,
    parse_arguments,
    parse_literal,
    same_literal,
    values_equal,
)
from azr.tasks.triplet import SEED_TASK, IOPair, Task


def test_canonical_form_sorts_sets_and_normalises_quotes():
    assert canonical_literal('{"b", "a", "c"}') == "{'a', 'b', 'c'}"
    assert canonical_literal("( 1 , )") == "(1,)"
    assert canonical_literal("set()") == "set()"


@pytest.mark.parametrize("text", ["inf", "float('nan')", "frozenset({1})", "x", "", "[1, 2"])
def test_non_literals_are_refused(text):
    with pytest.raises(LiteralError):
        canonical_literal(text)


def test_equality_is_type_strict():
    assert values_equal([1, (2, "a")], [1, (2, "a")])
    assert not values_equal(1, 1.0)
    assert not values_equal(1, True)
    assert not values_equal([1], (1,))
    assert not values_equal({"a": 1}, {"a": 1.0})


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({1: "a"}, {True: "a"}),
        ({1: "a"}, {1.0: "a"}),
        ({1}, {True}),
        ({1}, {1.0}),
        ({True}, {1.0}),
        ({(1, "x"): 0}, {(True, "x"): 0}),
        ({frozenset({1}): 0}, {frozenset({True}): 0}),
        ({frozenset({(1, 2)})}, {frozenset({(1.0, 2)})}),
        ([{"k": {1, 2}}], [{"k": {1, 2.0}}]),
    ],
)
def test_equality_is_type_strict_for_keys_and_elements(a, b):
    assert not values_equal(a, b)
    assert not values_equal(b, a)
    assert values_equal(a, a)


def test_strict_for_keys_and_elements_yet_order_free():
    assert not same_literal("{1: 'a'}", "{True: 'a'}")
    assert not same_literal("{1, 2}", "{1.0, 2}")
    assert not same_literal("{(1, 2): 0}", "{(1, True): 0}")
    assert same_literal("{'b': {2, 1}, 'a': (1,)}", "{'a': (1,), 'b': {1, 2}}")
    assert values_equal({(1, 2): {"x"}, (3,): set()}, {(3,): set(), (1, 2): {"x"}})
    assert not values_equal({(1, 2): {"x"}, (3,): set()}, {(3,): set(), (1, 2.0): {"x"}})
    assert not values_equal([1, 2], [2, 1])


def test_large_sets_compare_in_linear_time():
    n = 200_000
    a, b = set(range(n)), set(range(n - 1, -1, -1))
    c = set(range(n - 1)) | {float(n - 1)}
    start = time.perf_counter()
    assert values_equal(a, b)
    assert not values_equal(a, c)
    assert values_equal({i: str(i) for i in range(n)}, {i: str(i) for i in reversed(range(n))})
    assert time.perf_counter() - start < 5.0


def test_nan_equals_nan_so_a_value_always_equals_itself():
    nan = float("nan")
    assert values_equal(nan, float("nan"))
    assert values_equal([nan], [float("nan")])
    assert values_equal({nan: 1}, {float("nan"): 1})
    assert values_equal({nan, 1.0}, {1.0, float("nan")})
    assert values_equal(complex(nan, 1.0), complex(nan, 1.0))
    assert not values_equal(nan, 1.0)
    assert not values_equal({nan}, {1.0})
    assert values_equal(0.0, -0.0)


def test_argument_lists_accept_bare_text_or_a_full_call():
    assert parse_arguments("[1, 2], 'a'").text() == "[1, 2], 'a'"
    assert parse_arguments("f([1, 2], \"a\")").text() == "[1, 2], 'a'"
    assert parse_arguments("(1)").text() == "1"
    assert parse_arguments("x=(1,)").text() == "x=(1,)"


@pytest.mark.parametrize("text", ["", "1), (2", "__import__('os')", "*[1]", "**{'a': 1}", "g(1)", "inf"])
def test_argument_lists_must_be_literals(text):
    with pytest.raises(LiteralError):
        parse_arguments(text)


def test_literal_parse_failure_is_an_error_not_a_crash():
    with pytest.raises(LiteralError):
        parse_literal("[" * 500)


def test_key_ignores_comments_and_layout_but_not_content():
    a = Task("deduction", "def f(a):\n    # echo\n    return a", (IOPair("'x'", "'x'"),))
    b = Task("deduction", "def f(a): return a", (IOPair("'x'", "'x'"),))
    c = Task("deduction", "def f(a): return a", (IOPair("'y'", "'y'"),))
    d = Task("abduction", "def f(a): return a", (IOPair("'x'", "'x'"),))
    assert a.key() == b.key()
    assert len({b.key(), c.key(), d.key()}) == 3


def test_seed_task_is_the_identity_triplet():
    assert SEED_TASK.pairs == (IOPair("'Hello world'", "'Hello world'"),)
    assert "return a" in SEED_TASK.program
