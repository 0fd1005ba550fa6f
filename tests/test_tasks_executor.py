"""The task layer through the real sandboxed executor: determinism needs its two seed slots."""

from pathlib import Path

import pytest

from azr.executor.pool import Executor
from azr.tasks.base import REWARD_CORRECT, REWARD_WRONG, ProposerRequest
from azr.tasks.registry import get_task_type
from azr.tasks.triplet import IOPair, Task


@pytest.fixture(scope="module")
def executor():
    with Executor() as pool:
        yield pool


def propose(executor, type_name: str, program: str, argument: str):
    task_type = get_task_type(type_name)
    text = f"<answer>\n```python\n{program}\n```\n```input\n{argument}\n```\n</answer>"
    parsed = task_type.parse_proposal(ProposerRequest(type_name, "prompt", []), text)
    return task_type.validate([parsed], executor)[0]


def test_set_iteration_order_of_strings_is_rejected(executor):
    program = "def f(n):\n    return list({'ant', 'bee', 'cat', 'dog', 'eel', 'fox', 'gnu', 'hen'})[:n]"
    verdict = propose(executor, "deduction", program, "8")
    assert not verdict.valid and "not deterministic" in verdict.reason
    assert verdict.reward_if_invalid == REWARD_WRONG
    assert len({r.value_repr for r in verdict.results}) == 2  # the two slots saw different orders


@pytest.mark.skipif(
    Path("/proc/sys/kernel/randomize_va_space").exists()
    and Path("/proc/sys/kernel/randomize_va_space").read_text().strip() == "0",
    reason="id() differs between processes only with address-space randomisation",
)
def test_results_depending_on_id_are_rejected(executor):
    verdict = propose(executor, "abduction", "def f(xs):\n    return id(xs) % 1000003", "[1, 2]")
    assert not verdict.valid and "not deterministic" in verdict.reason


def test_sorted_set_is_deterministic_and_valid(executor):
    program = "def f(s):\n    return sorted(set(s.split()))"
    verdict = propose(executor, "deduction", program, "'b a b c'")
    assert verdict.valid, verdict.reason
    assert verdict.task.pairs == (IOPair("'b a b c'", "['a', 'b', 'c']"),)
    assert len(verdict.results) == 2


def test_runtime_limits_and_errors_come_back_as_reasons(executor):
    assert "timed out" in propose(executor, "deduction", "def f(a):\n    while True:\n        pass", "1").reason
    assert "ZeroDivisionError" in propose(executor, "deduction", "def f(a):\n    return a / 0", "1").reason


def test_answers_are_checked_through_the_sandbox(executor):
    abduction = get_task_type("abduction")
    task = Task("abduction", "def f(xs):\n    return sum(xs) % 5", (IOPair("[1, 2]", "3"),))
    texts = ["<answer>[3]</answer>", "<answer>[8, 0]</answer>", "<answer>[4]</answer>", "<answer>'x'</answer>"]
    verdicts = abduction.check([task] * 4, [abduction.parse_answer(task, t) for t in texts], executor)
    assert [v.reward for v in verdicts] == [REWARD_CORRECT, REWARD_CORRECT, REWARD_WRONG, REWARD_WRONG]
    assert "TypeError" in verdicts[3].reason

    induction = get_task_type("induction")
    pairs = tuple(IOPair(str(i), str(i % 3)) for i in range(6))
    task = Task("induction", "def f(n):\n    return n % 3", pairs, message="remainder")
    right = "<answer>```python\ndef f(n):\n    return n - 3 * (n // 3)\n```</answer>"
    shown_only = "<answer>```python\ndef f(n):\n    return n\n```</answer>"
    verdicts = induction.check([task, task], [induction.parse_answer(task, t) for t in (right, shown_only)], executor)
    assert [v.correct for v in verdicts] == [True, False]
