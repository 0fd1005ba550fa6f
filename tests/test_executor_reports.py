"""What a child reports is the program's word; the worker checks it against the kernel's."""

from __future__ import annotations

import pytest

from azr.executor import Executor, ExecutorConfig, Snippet

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def ex():
    with Executor(ExecutorConfig(workers=1, seed_slots=1, memory_mb=512, max_value_bytes=1000)) as executor:
        yield executor


def test_a_value_written_straight_to_the_result_pipe_is_held_to_max_value_bytes(ex):
    result = ex.run(Snippet(code="import os\nos.write(3, b'V' + b'7' * 5000)\nos._exit(0)"))
    assert not result.ok and result.error_type == "ReprTooLong", result
    assert result.value_repr is None


@pytest.mark.parametrize("code", ["raise MemoryError('fake')",
                                  "import os\nos.write(3, b'EMemoryError\\0fake')\nos._exit(0)"])
def test_a_program_cannot_label_its_own_failure_a_memory_kill(ex, code):
    result = ex.run(Snippet(code=code))
    assert result.error_type == "MemoryError" and result.killed_by_limit is None, result


def test_memory_really_used_up_to_the_limit_is_labelled_by_the_worker(ex):
    result = ex.run(Snippet(code="hoard = []\nwhile True:\n    hoard.append(b'x' * (1 << 20))", timeout_s=20))
    assert result.error_type == "MemoryError" and result.killed_by_limit == "memory", result
