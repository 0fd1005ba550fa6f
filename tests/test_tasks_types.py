"""Each task type: correct, wrong and malformed answers, checked through a runner."""

import random

import pytest
from _inprocess_runner import InProcessTestRunner
from _list_pool import ListPool

from azr.errors import AzrError
from azr.tasks.base import REWARD_CORRECT, REWARD_MALFORMED, REWARD_WRONG, TaskType
from azr.tasks.config import InductionConfig, TasksConfig
from azr.tasks.registry import get_task_type, register, task_type_names
from azr.tasks.triplet import SEED_TASK, IOPair, Task, hidden_pairs, visible_pairs

SQUARE_ODD = "def f(xs):\n    return [x * x for x in xs if x % 2]"


def answer(body: str) -> str:
    return f"<think>let me see</think>\n<answer>{body}</answer>"


def verdict(type_name: str, task: Task, text: str):
    task_type = get_task_type(type_name)
    runner = InProcessTestRunner()
    parsed = task_type.parse_answer(task, text)
    return task_type.check([task], [parsed], runner)[0]


DEDUCTION = Task("deduction", SQUARE_ODD, (IOPair("[1, 2, 3]", "[1, 9]"),))
ABDUCTION = Task("abduction", "def f(s):\n    return len(s) % 3", (IOPair("'abcd'", "1"),))
INDUCTION = Task(
    "induction",
    "def f(n):\n    return n * 2 if n < 10 else n",
    tuple(IOPair(str(i), str(o)) for i, o in [(1, 2), (3, 6), (4, 8), (7, 14), (12, 12), (20, 20)]),
    message="doubles small numbers",
)


def test_registry_knows_the_three_types_in_order():
    assert task_type_names()[:3] == ["deduction", "abduction", "induction"]
    assert isinstance(get_task_type("induction"), TaskType)


def test_unknown_type_lists_the_known_ones():
    with pytest.raises(AzrError, match="deduction, abduction, induction"):
        get_task_type("translation")


def test_a_name_cannot_be_registered_twice():
    with pytest.raises(AzrError, match="already used"):

        @register
        class Clash(type(get_task_type("deduction"))):
            name = "deduction"


@pytest.mark.parametrize(
    ("text", "correct", "reward"),
    [
        (answer("[1, 9]"), True, REWARD_CORRECT),
        (answer("```python\n[1,9]\n```"), True, REWARD_CORRECT),
        (answer("[1, 4, 9]"), False, REWARD_WRONG),
        (answer("(1, 9)"), False, REWARD_WRONG),
        (answer("one and nine"), False, REWARD_MALFORMED),
        ("the answer is [1, 9]", False, REWARD_MALFORMED),
    ],
)
def test_deduction(text, correct, reward):
    result = verdict("deduction", DEDUCTION, text)
    assert (result.correct, result.reward) == (correct, reward)
    assert result.malformed == (reward == REWARD_MALFORMED)


@pytest.mark.parametrize(
    ("text", "correct", "reward"),
    [
        (answer("'abcd'"), True, REWARD_CORRECT),
        (answer("'x'"), True, REWARD_CORRECT),  # a different input with the same output counts
        (answer("f([1, 2, 3, 4])"), True, REWARD_CORRECT),
        (answer("'abc'"), False, REWARD_WRONG),
        (answer("5"), False, REWARD_WRONG),  # len(5) raises: well-formed but wrong
        (answer("abcd"), False, REWARD_MALFORMED),
        ("f('abcd')", False, REWARD_MALFORMED),
    ],
)
def test_abduction(text, correct, reward):
    result = verdict("abduction", ABDUCTION, text)
    assert (result.correct, result.reward) == (correct, reward), result.reason


def test_abduction_wrong_answer_says_what_it_returned():
    result = verdict("abduction", ABDUCTION, answer("'ab'"))
    assert "returned 2" in result.reason and "expected 1" in result.reason


INDUCTION_RIGHT = "def f(n):\n    if n >= 10:\n        return n\n    return n + n"
INDUCTION_FITS_SHOWN_ONLY = "def f(n):\n    return 2 * n"


@pytest.mark.parametrize(
    ("text", "correct", "reward"),
    [
        (answer(f"```python\n{INDUCTION_RIGHT}\n```"), True, REWARD_CORRECT),
        (f"```python\n{INDUCTION_RIGHT}\n```", True, REWARD_CORRECT),
        (answer(INDUCTION_RIGHT), True, REWARD_CORRECT),
        (answer(f"```python\n{INDUCTION_FITS_SHOWN_ONLY}\n```"), False, REWARD_WRONG),
        (answer("```python\nimport os\ndef f(n):\n    return n\n```"), False, REWARD_WRONG),
        (answer("```python\ndef g(n):\n    return n\n```"), False, REWARD_MALFORMED),
        (answer("```python\ndef f(n) return n\n```"), False, REWARD_MALFORMED),
        ("I think it doubles.", False, REWARD_MALFORMED),
    ],
)
def test_induction(text, correct, reward):
    result = verdict("induction", INDUCTION, text)
    assert (result.correct, result.reward) == (correct, reward), result.reason


def test_induction_program_fitting_the_shown_pairs_fails_on_the_hidden_ones():
    fits = {p.input: p.output for p in visible_pairs(INDUCTION)}
    assert all(str(2 * int(i)) == o for i, o in fits.items())
    result = verdict("induction", INDUCTION, answer(f"```python\n{INDUCTION_FITS_SHOWN_ONLY}\n```"))
    assert "2 of 3 hidden pairs wrong" in result.reason


def test_induction_solver_sees_only_the_visible_half_and_the_message():
    prompt = get_task_type("induction").solver_prompt(INDUCTION)
    assert all(f"f({p.input}) == {p.output}" in prompt for p in visible_pairs(INDUCTION))
    assert not any(f"f({p.input}) ==" in prompt for p in hidden_pairs(INDUCTION))
    assert "doubles small numbers" in prompt
    assert "n * 2" not in prompt


def test_solver_prompts_show_the_right_half_of_the_triplet():
    deduction = get_task_type("deduction").solver_prompt(DEDUCTION)
    abduction = get_task_type("abduction").solver_prompt(ABDUCTION)
    assert "f([1, 2, 3])" in deduction and "[1, 9]" not in deduction
    assert abduction.endswith("f returns 1 for the input <think>") and "'abcd'" not in abduction


def test_checking_is_batched_into_one_executor_call():
    abduction = get_task_type("abduction")
    runner = InProcessTestRunner()
    texts = [answer("'abcd'"), answer("nonsense"), answer("'ab'"), answer("'a'")]
    answers = [abduction.parse_answer(ABDUCTION, t) for t in texts]
    verdicts = abduction.check([ABDUCTION] * 4, answers, runner)
    assert [v.reward for v in verdicts] == [REWARD_CORRECT, REWARD_MALFORMED, REWARD_WRONG, REWARD_CORRECT]
    assert len(runner.batches) == 1 and len(runner.batches[0]) == 3


def test_deduction_checking_runs_nothing():
    runner = InProcessTestRunner()
    deduction = get_task_type("deduction")
    deduction.check([DEDUCTION], [deduction.parse_answer(DEDUCTION, answer("[1, 9]"))], runner)
    assert all(not batch for batch in runner.batches)


def test_proposer_requests():
    rng = random.Random(0)
    empty = ListPool([])
    request = get_task_type("deduction").proposer_request(empty, 6, rng)
    assert request is not None and request.references == []
    assert "return a" in request.prompt  # the seed triplet stands in for an empty pool
    assert get_task_type("induction").proposer_request(empty, 6, rng) is None
    pool = ListPool([DEDUCTION, ABDUCTION])
    induction = get_task_type("induction").proposer_request(pool, 6, rng)
    assert induction is not None and induction.base_program in (DEDUCTION.program, ABDUCTION.program)
    assert induction.base_program in induction.prompt
    abduction = get_task_type("abduction").proposer_request(pool, 6, rng)
    assert abduction.references == [ABDUCTION] and ABDUCTION.program in abduction.prompt


def test_seed_task_is_checkable_as_deduction():
    assert verdict("deduction", SEED_TASK, answer("'Hello world'")).correct


def test_seed_tasks_give_every_type_a_first_reference():
    assert get_task_type("abduction").seed_tasks(SEED_TASK)[0].task_type == "abduction"
    assert get_task_type("deduction").seed_tasks(SEED_TASK) == [SEED_TASK]
    (induction,) = get_task_type("induction").seed_tasks(SEED_TASK)
    assert induction.task_type == "induction"
    assert induction.program == SEED_TASK.program
    assert len(induction.pairs) >= 3
    assert all(pair.output == pair.input for pair in induction.pairs)


def test_induction_proposer_example_shows_as_many_calls_as_a_valid_task_needs():
    for num_inputs in (4, 6, 8):
        config = TasksConfig(induction=InductionConfig(num_inputs=num_inputs, min_pairs=4))
        prompt = get_task_type("induction", config).proposer_request(ListPool([SEED_TASK]), 1, random.Random(0)).prompt
        example = prompt.split("</think>")[-1].split("<answer>")[1].split("</answer>")[0]
        calls = [line for line in example.splitlines() if line.startswith("f(")]
        assert len(calls) == len(set(calls)) == num_inputs
        assert f"{num_inputs} different calls" in prompt
