"""CRUXEval: predict a small function's output (deduction) or an input that gives an output (abduction).

These are the in-distribution sets for Absolute Zero: the solver's deduction and abduction
tasks have the same shape. Both prompts are completion-style with worked examples and
an ``[ANSWER]`` block, which a base model continues by pattern and an instruct model
follows as an instruction. Answers are checked the CRUXEval way, by running
``output == answer`` (or ``f(answer) == output``) with the function, in the sandbox.
"""

from __future__ import annotations

import ast
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, Sequence

from azr.eval.benchmarks.base import Benchmark, Judgement, Record, failure_reason, register
from azr.eval.data import DataSource
from azr.executor.types import Snippet, SnippetRunner

_SOURCE = DataSource(local="cruxeval/cruxeval.jsonl", hub_id="cruxeval-org/cruxeval")
_OPEN = "[ANSWER]"
_CLOSE = "[/ANSWER]"
_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class _WorkedExample:
    code: str
    call_input: str
    output: str


# Three examples with different return types: with a single one, SmolLM2-135M answered
# 402 of 800 CRUXEval-O items with that example's output (measured on the full set).
_EXAMPLES = (
    _WorkedExample(
        code="def f(words):\n    kept = [w.upper() for w in words if len(w) > 2]\n    return kept[::-1]",
        call_input="['a', 'cat', 'ox', 'bird']",
        output="['BIRD', 'CAT']",
    ),
    _WorkedExample(
        code="def f(n):\n    total = 0\n    for digit in str(n):\n        total += int(digit) * 2\n    return total",
        call_input="305",
        output="16",
    ),
    _WorkedExample(
        code="def f(text, sep):\n    return {part: len(part) for part in text.split(sep) if part}",
        call_input="'ab-c--def', '-'",
        output="{'ab': 2, 'c': 1, 'def': 3}",
    ),
)

_OUTPUT_INTRO = (
    "Each block shows a Python function f and a call to it. Run the code in your head and write "
    "the exact value the call returns, as a Python literal, between [ANSWER] and [/ANSWER].\n\n"
)
_INPUT_INTRO = (
    "Each block shows a Python function f and a value it returned. Write one call f(...) with "
    "literal arguments that returns exactly that value, between [ANSWER] and [/ANSWER].\n\n"
)


def _output_block(code: str, call_input: str) -> str:
    return f"[CODE]\n{code}\n[/CODE]\n[CALL]\nf({call_input})\n[/CALL]\n[ANSWER]\n"


def _input_block(code: str, output: str) -> str:
    return f"[CODE]\n{code}\n[/CODE]\n[RETURNS]\n{output}\n[/RETURNS]\n[ANSWER]\n"


def answer_text(completion: str) -> str:
    """The answer block's first non-empty line, without code fences.

    A completion-style reply starts inside the block; a chat reply often writes the whole
    block itself, so text before a ``[ANSWER]`` it wrote is dropped.
    """
    body = completion.split(_CLOSE, 1)[0]
    body = body.rsplit(_OPEN, 1)[-1].replace("```python", "").replace("```", "")
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    return lines[0] if lines else ""


def _single_equality(node: ast.expr) -> ast.Compare | None:
    """``a == b`` (one comparison, equality), which models write when they restate the call."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq):
        return node
    return None


def _calls_f(tree: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "f" for n in ast.walk(tree))


class _CruxEval(Benchmark):
    family = "cruxeval"
    source = _SOURCE
    max_new_tokens = 96
    stop = (_CLOSE,)

    def records(self, rows: Sequence[dict[str, Any]]) -> list[Record]:
        return [Record(id=str(row["id"]), fields={k: row[k] for k in ("code", "input", "output")}) for row in rows]

    def judge(self, records: Sequence[Record], completions: Sequence[str], runner: SnippetRunner) -> list[Judgement]:
        checks = [self._check(record, answer_text(text)) for record, text in zip(records, completions)]
        snippets = [check for check in checks if isinstance(check, Snippet)]
        results = iter(runner.run_batch(snippets)) if snippets else iter(())
        judgements = []
        for check, text in zip(checks, completions):
            answer = answer_text(text)
            if isinstance(check, str):
                judgements.append(Judgement(False, answer, check))
                continue
            result = next(results)
            if result.ok:
                correct = result.value_repr == "True"
                judgements.append(Judgement(correct, answer, "" if correct else "not equal"))
            else:
                judgements.append(Judgement(False, answer, failure_reason(result)))
        return judgements

    @abstractmethod
    def _check(self, record: Record, answer: str) -> Snippet | str:
        """The sandbox check for one answer, or the reason it is wrong without running anything."""


@register
class CruxEvalOutput(_CruxEval):
    """CRUXEval-O: given f and an input, predict the output (the deduction task)."""

    name = "cruxeval-o"
    title = "CRUXEval-O"

    def prompt(self, record: Record) -> str:
        examples = "".join(_output_block(e.code, e.call_input) + f"{e.output}\n{_CLOSE}\n\n" for e in _EXAMPLES)
        return _OUTPUT_INTRO + examples + _output_block(record.fields["code"], record.fields["input"])

    def _check(self, record: Record, answer: str) -> Snippet | str:
        if not answer:
            return "no answer"
        try:
            value = ast.parse(answer, mode="eval").body
        except SyntaxError:
            return "answer is not a Python expression"
        restated = _single_equality(value)
        if restated is not None:
            value = restated.comparators[0]  # the model restated the call: "f(...) == value"
        if _calls_f(value):
            return "answer calls f instead of predicting its value"
        predicted = ast.unparse(value)
        code = record.fields["code"]
        return Snippet(code=code, call=f"({record.fields['output']}) == ({predicted})", timeout_s=_TIMEOUT_S)


@register
class CruxEvalInput(_CruxEval):
    """CRUXEval-I: given f and an output, find an input that produces it (the abduction task)."""

    name = "cruxeval-i"
    title = "CRUXEval-I"

    def prompt(self, record: Record) -> str:
        examples = "".join(_input_block(e.code, e.output) + f"f({e.call_input})\n{_CLOSE}\n\n" for e in _EXAMPLES)
        return _INPUT_INTRO + examples + _input_block(record.fields["code"], record.fields["output"])

    def _check(self, record: Record, answer: str) -> Snippet | str:
        try:
            body = ast.parse(answer, mode="eval").body
        except SyntaxError:
            return "answer is not a call f(...)"
        restated = _single_equality(body)
        if restated is not None:
            body = restated.left  # the model restated "== output" after its call
        if not (isinstance(body, ast.Call) and isinstance(body.func, ast.Name) and body.func.id == "f"):
            return "answer is not a call f(...)"
        if any(_calls_f(arg) for arg in [*body.args, *body.keywords]):
            return "answer nests calls to f"
        call = ast.unparse(body)
        return Snippet(code=record.fields["code"], call=f"({call}) == ({record.fields['output']})", timeout_s=_TIMEOUT_S)
