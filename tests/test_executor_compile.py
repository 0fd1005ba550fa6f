"""Compiling a program is part of its run: a long one inside its time limit, in its confined
child; a short one in the fork-server before the fork, on the run's clock."""

from __future__ import annotations

import pytest

from azr.executor import Executor, ExecutorConfig, Snippet
from azr.executor.worker import PRECOMPILE_MAX_CHARS, precompile

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def ex():
    with Executor(ExecutorConfig(workers=1, seed_slots=1, memory_mb=2048)) as executor:
        yield executor


def test_a_program_that_compiles_slowly_is_stopped_at_its_deadline(ex):
    workers = ex.worker_pids()
    slow = "a = 1\n" * 1_500_000  # several seconds of compiling, past timeout + the pool's grace
    result = ex.run(Snippet(code=slow, call="a", timeout_s=0.5))
    assert result.timed_out and result.error_type == "Timeout", result
    assert result.duration_s < 2.0
    assert ex.worker_pids() == workers


def test_a_syntax_error_is_reported_from_the_child(ex):
    result = ex.run(Snippet(code="def f(:\n    pass", call="f()"))
    assert not result.ok and result.error_type == "SyntaxError", result
    result = ex.run(Snippet(code="x = 1", call="x +"))
    assert not result.ok and result.error_type == "SyntaxError", result


def test_short_clean_programs_are_compiled_before_the_fork_and_the_rest_are_left_to_the_child():
    program, expression = precompile("x = 41", "x + 1")
    assert eval(expression, {"x": 41}) == 42 and program.co_filename == "<snippet>"
    assert precompile("x = 1", None)[1] is None
    assert precompile("x = 1\n" + "#" * PRECOMPILE_MAX_CHARS, "x") is None  # too long: the child compiles it
    assert precompile("x = 1", " " * PRECOMPILE_MAX_CHARS + "x") is None  # the call counts toward the bound
    assert precompile("def f(:\n    pass", "f()") is None  # the child reports the syntax error
    assert precompile("x = 1 is 1", "x") is None  # a warning would reach the worker's stderr


def test_a_warning_while_compiling_still_reaches_the_programs_own_output(ex):
    result = ex.run(Snippet(code="x = 1 is 1", call="x"))
    assert result.ok and result.value_repr == "True", result
    assert "SyntaxWarning" in result.stdout, result


def test_snippets_compile_like_plain_python_without_azrs_future_flags(ex):
    """azr's modules use ``from __future__ import annotations``; a snippet must not inherit it,
    or an annotation naming nothing would pass here and fail in plain Python."""
    code = "def f(a: Undefined):\n    return a"
    for call in ("f(2)", "f(2)" + " " * PRECOMPILE_MAX_CHARS):  # compiled by the fork-server, then by the child
        result = ex.run(Snippet(code=code, call=call))
        assert not result.ok and result.error_type == "NameError", result
