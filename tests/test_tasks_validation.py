"""Proposal validation: malformed (-1) versus well-formed but invalid (-0.5), and each rule."""

import random

import pytest
from _inprocess_runner import InProcessTestRunner
from _list_pool import ListPool

from azr.executor.types import ExecResult
from azr.tasks.base import REWARD_MALFORMED, REWARD_WRONG, ProposerRequest
from azr.tasks.config import InductionConfig, TasksConfig
from azr.tasks.registry import get_task_type
from azr.tasks.validation import ValidationConfig


def proposal_text(program: str, *inputs: str, message: str | None = None) -> str:
    blocks = [f"```python\n{program}\n```"] if program else []
    blocks += [f"```input\n{text}\n```" for text in inputs]
    if message is not None:
        blocks.append(f"```message\n{message}\n```")
    return "<think>plan</think>\n<answer>\n" + "\n".join(blocks) + "\n</answer>"


def validate(type_name: str, text: str, config: TasksConfig | None = None, base_program: str | None = None):
    task_type = get_task_type(type_name, config)
    request = ProposerRequest(type_name, "prompt", [], base_program=base_program)
    runner = InProcessTestRunner()
    return task_type.validate([task_type.parse_proposal(request, text)], runner)[0]


def test_valid_deduction_proposal_becomes_a_canonical_task():
    verdict = validate("deduction", proposal_text("def f(xs, s):\n    return {s: sorted(xs)}", '[3, 1], "k"'))
    assert verdict.valid, verdict.reason
    assert verdict.task.task_type == "deduction"
    assert [(p.input, p.output) for p in verdict.task.pairs] == [("[3, 1], 'k'", "{'k': [1, 3]}")]
    assert len(verdict.results) == 2  # one run per seed slot


def test_set_outputs_are_stored_in_canonical_order():
    verdict = validate("abduction", proposal_text("def f(s):\n    return set(s)", "'cab'"))
    assert verdict.valid and verdict.task.pairs[0].output == "{'a', 'b', 'c'}"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("def f(a): return a", "no program"),
        (proposal_text("", "1"), "no program"),
        (proposal_text("def g(a):\n    return a", "1"), "does not define"),
        (proposal_text("def f(a) return a", "1"), "does not parse"),
        (proposal_text("def f(a):\n    return a"), "no ```input"),
        (proposal_text("def f(a):\n    return a", "hello world"), "not a literal"),
        (proposal_text("def f(a):\n    return a", "len('x')"), "not a literal"),
    ],
)
def test_malformed_proposals_get_minus_one(text, reason):
    verdict = validate("deduction", text)
    assert not verdict.valid and verdict.proposal.malformed
    assert verdict.reward_if_invalid == REWARD_MALFORMED
    assert reason in verdict.reason


@pytest.mark.parametrize(
    ("program", "argument", "reason"),
    [
        ("import os\ndef f(a):\n    return os.getcwd()", "1", "unsafe"),
        ("def f(a):\n    return open(a).read()", "'/etc/passwd'", "unsafe"),
        ("def f(a):\n    return a[5]", "[1]", "raised IndexError"),
        ("def f(a):\n    while True:\n        a += 1", "1", "timed out"),
        ("def f(a):\n    return 'x' * 1000", "1", "repr is 1002 characters"),
        ("def f(a):\n    return float(a)", "'inf'", "not a round-trippable literal"),
        ("def f(a):\n    class C:\n        pass\n    return C()", "1", "not a round-trippable literal"),
        ("def f(a):\n    return frozenset(a)", "[1]", "not a round-trippable literal"),
        ("def f(a):\n    pass", "1", ""),
    ],
)
def test_well_formed_but_invalid_proposals_get_minus_half(program, argument, reason):
    config = TasksConfig(validation=ValidationConfig(timeout_s=0.3))
    verdict = validate("deduction", proposal_text(program, argument), config)
    if program.endswith("pass"):
        assert verdict.valid and verdict.task.pairs[0].output == "None"  # None is a fine output
        return
    assert not verdict.valid and not verdict.proposal.malformed, verdict.reason
    assert verdict.reward_if_invalid == REWARD_WRONG
    assert reason in verdict.reason


def test_output_limit_is_configurable():
    text = proposal_text("def f(a):\n    return a * 3", "'abcd'")
    assert validate("deduction", text).valid
    tight = TasksConfig(validation=ValidationConfig(max_output_repr=10))
    assert "limit 10" in validate("deduction", text, tight).reason


class SlotDependentStubRunner:
    """A stub runner whose slot-1 result differs, standing in for a hash-seed-dependent program."""

    def run_batch(self, snippets):
        return [ExecResult(ok=True, value_repr="['a', 'b']" if s.seed_slot == 0 else "['b', 'a']") for s in snippets]


def test_different_values_across_seed_slots_are_rejected():
    deduction = get_task_type("deduction")
    request = ProposerRequest("deduction", "prompt", [])
    parsed = deduction.parse_proposal(request, proposal_text("def f(a):\n    return list({'a', 'b'})", "1"))
    verdict = deduction.validate([parsed], SlotDependentStubRunner())[0]
    assert not verdict.valid and "not deterministic" in verdict.reason
    assert verdict.reward_if_invalid == REWARD_WRONG


def test_many_proposals_validate_in_one_batch_and_keep_their_order():
    deduction = get_task_type("deduction")
    request = ProposerRequest("deduction", "prompt", [])
    texts = [
        proposal_text("def f(a):\n    return a + 1", "1"),
        "garbage",
        proposal_text("import sys\ndef f(a):\n    return a", "1"),
        proposal_text("def f(a):\n    return a * 2", "'ab'"),
    ]
    runner = InProcessTestRunner()
    verdicts = deduction.validate([deduction.parse_proposal(request, t) for t in texts], runner)
    assert [v.valid for v in verdicts] == [True, False, False, True]
    assert [v.task.pairs[0].output for v in verdicts if v.valid] == ["2", "'abab'"]
    assert len(runner.batches) == 1 and len(runner.batches[0]) == 4
    assert sorted(s.seed_slot for s in runner.batches[0]) == [0, 0, 1, 1]


BASE = "def f(n):\n    return n * n if n > 0 else -n"


def test_induction_proposal_keeps_distinct_working_pairs():
    text = proposal_text("", "1", "2", "2", "-3", "'x'", "4", "5", "6", message="squares   positives")
    verdict = validate("induction", text, base_program=BASE)
    assert verdict.valid, verdict.reason
    task = verdict.task
    assert task.program == BASE and task.message == "squares positives"
    # "2" repeated is dropped, 'x' raises, and only num_inputs=6 distinct inputs are asked for
    assert [p.input for p in task.pairs] == ["1", "2", "-3", "4", "5"]
    assert [p.output for p in task.pairs] == ["1", "4", "3", "16", "25"]


def test_induction_needs_enough_pairs_and_varied_outputs():
    too_few = validate("induction", proposal_text("", "1", "'a'", "'b'", "2", message="m"), base_program=BASE)
    assert not too_few.valid and "only 2 of 4 inputs ran well" in too_few.reason
    assert "TypeError" in too_few.reason
    same = validate("induction", proposal_text("", "1", "-1", "(1)", "-1", message="m"), base_program=BASE)
    assert not same.proposal.malformed and "need 4" in same.reason  # (1) is 1: duplicates collapse
    constant = InductionConfig(min_pairs=2)
    verdict = validate(
        "induction", proposal_text("", "1", "-1", message="m"), TasksConfig(induction=constant), base_program=BASE
    )
    assert not verdict.valid and "distinct outputs" in verdict.reason


def test_induction_malformed_without_message_or_usable_input():
    no_message = validate("induction", proposal_text("", "1", "2"), base_program=BASE)
    assert no_message.proposal.malformed and no_message.reward_if_invalid == REWARD_MALFORMED
    assert "no hint" in no_message.reason
    no_input = validate("induction", proposal_text("", "one", message="m"), base_program=BASE)
    assert no_input.proposal.malformed and "literal" in no_input.reason


def test_reply_continuing_the_prompts_open_answer_parses():
    completion = "\n```python\ndef f(a):\n    return a + 1\n```\n```input\n3\n```\n</answer>\n\n<answer>\n```python\ndef f("
    verdict = validate("deduction", completion)
    assert verdict.valid, verdict.reason
    assert verdict.task.pairs[0].output == "4"


def test_induction_inputs_and_hint_may_be_plain_lines():
    text = "\nHint: squares positive numbers\nf(2)\nf(-3)\nf(4)\n  f(5)  \nnot a call\nf(x)\n</answer>\n<answer>\nHint: other"
    verdict = validate("induction", text, base_program=BASE)
    assert verdict.valid, verdict.reason
    assert verdict.task.message == "squares positive numbers"
    assert [p.input for p in verdict.task.pairs] == ["2", "-3", "4", "5"]


@pytest.mark.parametrize("type_name", ["deduction", "abduction"])
def test_single_pair_input_may_be_a_call_line_as_the_prompt_shows_it(type_name):
    request = get_task_type(type_name).proposer_request(ListPool([]), 0, random.Random(0))
    assert "\nf('Hello world')\n</answer>" in request.prompt and "```input" not in request.prompt
    verdict = validate(type_name, "\n```python\ndef f(xs):\n    return xs[::-1]\n```\nf([1, 2])\n</answer>")
    assert verdict.valid, verdict.reason
    assert verdict.task.pairs[0].input == "[1, 2]" and verdict.task.pairs[0].output == "[2, 1]"
