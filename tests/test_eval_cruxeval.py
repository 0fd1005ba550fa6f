"""CRUXEval-O and -I: loader, prompt, answer reading, and verdicts run in the real sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from azr.eval.benchmarks import select
from azr.eval.benchmarks.base import Record
from azr.eval.benchmarks.cruxeval import _EXAMPLES, answer_text
from azr.executor import Executor, ExecutorConfig

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared benchmark data not found at {DATA}")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Executor]:
    with Executor(ExecutorConfig(workers=1, seed_slots=1)) as executor:
        yield executor


def test_answer_is_read_from_completion_and_chat_style_replies() -> None:
    assert answer_text(" [1, 2]\n[/ANSWER]\nmore text") == "[1, 2]"
    assert answer_text("Sure!\n[ANSWER]\n'abc'\n[/ANSWER]") == "'abc'"
    assert answer_text("```python\nf(1) == 3\n```") == "f(1) == 3"
    assert answer_text("") == ""


@needs_data
def test_loader_reads_all_800_items_and_the_prompt_ends_in_an_open_answer_block() -> None:
    out_bench, in_bench = select("cruxeval-o,cruxeval-i")
    records = out_bench.load(DATA)
    assert len(records) == 800 and records[0].id == "sample_0"
    prompt = out_bench.prompt(records[0])
    assert records[0].fields["code"] in prompt and f"f({records[0].fields['input']})" in prompt
    assert prompt.endswith("[ANSWER]\n")
    assert records[0].fields["output"] in in_bench.prompt(records[0])


@needs_data
def test_output_prediction_verdicts(sandbox: Executor) -> None:
    bench = select("cruxeval-o")[0]
    record = bench.load(DATA)[0]
    gold = record.fields["output"]
    completions = [
        f"{gold}\n[/ANSWER]",  # the recorded output
        f"f({record.fields['input']}) == {gold}",  # restating the call is accepted
        "[(4, 1)]\n[/ANSWER]",  # wrong value
        f"f({record.fields['input']})",  # asking f itself is not a prediction
        "[(4, 1\n[/ANSWER]",  # not Python
    ]
    judged = bench.judge([record] * len(completions), completions, sandbox)
    assert [j.correct for j in judged] == [True, True, False, False, False]
    assert "calls f" in judged[3].reason
    assert "not a Python expression" in judged[4].reason


@needs_data
def test_input_prediction_accepts_any_input_that_gives_the_output(sandbox: Executor) -> None:
    bench = select("cruxeval-i")[0]
    record = bench.load(DATA)[0]  # f counts each element: [1,1,3,1,3,1] -> [(4, 1)x4, (2, 3)x2]
    completions = [
        f"f({record.fields['input']})\n[/ANSWER]",
        "f([3, 1, 1, 3, 1, 1])",  # a different input with the same output
        "f([1, 3])",  # wrong
        "12",  # not a call
        "f(f([1]))",  # nested f
    ]
    judged = bench.judge([record] * len(completions), completions, sandbox)
    assert [j.correct for j in judged] == [True, True, False, False, False]
    assert judged[3].reason == "answer is not a call f(...)"


def test_a_runaway_answer_is_a_wrong_answer_not_a_hang(sandbox: Executor) -> None:
    bench = select("cruxeval-i")[0]
    [record] = bench.records([{"id": "loop", "code": "def f(n):\n    while n:\n        pass\n    return n", "input": "0", "output": "0"}])
    judged = bench.judge([record, record], ["f(0)", "f(1)"], sandbox)
    assert [j.correct for j in judged] == [True, False]


def test_every_worked_example_in_the_prompts_is_judged_correct_by_its_own_benchmark(sandbox: Executor) -> None:
    out_bench, in_bench = select("cruxeval-o,cruxeval-i")
    records = [Record(id=f"example-{i}", fields={"code": e.code, "input": e.call_input, "output": e.output}) for i, e in enumerate(_EXAMPLES)]
    outputs = out_bench.judge(records, [f"{e.output}\n[/ANSWER]" for e in _EXAMPLES], sandbox)
    inputs = in_bench.judge(records, [f"f({e.call_input})\n[/ANSWER]" for e in _EXAMPLES], sandbox)
    assert [j.correct for j in outputs + inputs] == [True] * (2 * len(_EXAMPLES))
    assert len({e.output for e in _EXAMPLES}) == len(_EXAMPLES) >= 3


_IDENTITY = Record("inline/identity", {"code": "def f(x):\n    return x", "input": "5", "output": "5"})
_UPPER = Record("inline/upper", {"code": "def f(s):\n    return s.upper()", "input": "'abc'", "output": "'ABC'"})
_ALWAYS_EQUAL = "type('A', (), {'__eq__': lambda s, o: True, '__hash__': object.__hash__})()"
_INT_EQUAL = "type('I', (int,), {'__eq__': lambda s, o: True, '__hash__': int.__hash__})(0)"
_STR_EQUAL = "type('S', (str,), {'__eq__': lambda s, o: True, '__hash__': str.__hash__})('')"
_FORGED_FRAME = "(__import__('os').write(3, b'VTrue') and __import__('os')._exit(0))"


def test_output_prediction_on_inline_items_is_exact_and_type_strict(sandbox: Executor) -> None:
    bench = select("cruxeval-o")[0]
    cases = [(_IDENTITY, "5"), (_IDENTITY, "6"), (_IDENTITY, "5.0"), (_IDENTITY, "True"), (_UPPER, "'ABC'"),
             (_UPPER, "'abc'"), (_IDENTITY, "2 + 3")]
    judged = bench.judge([c[0] for c in cases], [c[1] for c in cases], sandbox)
    assert [j.correct for j in judged] == [True, False, False, False, True, False, False]
    assert judged[6].reason == "answer is not a Python literal"


@pytest.mark.parametrize("answer", [_ALWAYS_EQUAL, _INT_EQUAL, _FORGED_FRAME])
def test_an_output_prediction_cannot_forge_its_verdict(sandbox: Executor, answer: str) -> None:
    [judged] = select("cruxeval-o")[0].judge([_IDENTITY], [answer], sandbox)
    assert not judged.correct, judged.reason


def test_a_str_subclass_predicted_output_is_wrong(sandbox: Executor) -> None:
    [judged] = select("cruxeval-o")[0].judge([_UPPER], [_STR_EQUAL], sandbox)
    assert not judged.correct, judged.reason


def test_input_prediction_on_inline_items(sandbox: Executor) -> None:
    bench = select("cruxeval-i")[0]
    cases = [(_IDENTITY, "f(5)"), (_IDENTITY, "f(x=5)"), (_IDENTITY, "f(6)"), (_IDENTITY, "f(5.0)"),
             (_UPPER, "f('aBc')"), (_UPPER, "f('abd')")]
    judged = bench.judge([c[0] for c in cases], [c[1] for c in cases], sandbox)
    assert [j.correct for j in judged] == [True, True, False, False, True, False]


@pytest.mark.parametrize("argument", [_ALWAYS_EQUAL, _INT_EQUAL, _FORGED_FRAME])
def test_an_input_prediction_cannot_forge_its_verdict(sandbox: Executor, argument: str) -> None:
    [judged] = select("cruxeval-i")[0].judge([_IDENTITY], [f"f({argument})"], sandbox)
    assert not judged.correct, judged.reason


def test_an_input_whose_str_subclass_fakes_the_output_is_wrong(sandbox: Executor) -> None:
    # upper() of this argument returns an always-equal str, and its repr is the expected text.
    fake = ("type('S', (str,), {'upper': lambda s: type('T', (str,), {'__eq__': lambda a, b: True, "
            "'__hash__': str.__hash__, '__repr__': lambda a: \"'ABC'\"})('x')})('q')")
    [judged] = select("cruxeval-i")[0].judge([_UPPER], [f"f({fake})"], sandbox)
    assert not judged.correct, judged.reason


def test_a_call_without_arguments_is_run() -> None:
    record = Record("inline/empty", {"code": "def f():\n    return [1]", "input": "", "output": "[1]"})
    with Executor(ExecutorConfig(workers=1, seed_slots=1)) as executor:
        judged = select("cruxeval-i")[0].judge([record, record], ["f()", "f(1)"], executor)
    assert [j.correct for j in judged] == [True, False]
