"""Compiling a program is part of its run: inside its time limit, in its confined child."""

from __future__ import annotations

import pytest

from azr.executor import Executor, ExecutorConfig, Snippet

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
