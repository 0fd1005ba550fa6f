"""CRUXEval: predict a small function's output (deduction) or an input that gives an output (abduction).

These are the in-distribution sets for Absolute Zero: the solver's deduction and abduction
tasks have the same shape. Both prompts are completion-style with worked examples and
an ``[ANSWER]`` block, which a base model continues by pattern and an instruct model
follows as an instruction. Verdicts are decided on the host, on plain values, never by an
``==`` inside the sandbox (where an answer's object could make ``==`` answer True): a
CRUXEval-O answer must be a literal, read with :func:`ast.literal_eval`; a CRUXEval-I answer
must be a call ``f(...)`` with literal arguments (as self-play's abduction requires), run in
the sandbox, and what it returns is read back as a literal. Both are compared with the
recorded output type-strictly (:func:`azr.tasks.literals.values_equal`), so ``1.0`` for
``1`` or ``True`` for ``1`` is wrong, and an expression or a lambda argument is refused even
where it would evaluate to the right thing: a lambda runs code in the process whose result
the host reads, and the expected output is in the prompt.
"""

from __future__ import annotations

import ast
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, Sequence

from azr.eval.benchmarks.base import Benchmark, Judgement, Record, failure_reason, read_literal, register
from azr.eval.data import DataSource
from azr.executor.types import ExecResult, Snippet, SnippetRunner
from azr.tasks.literals import LiteralError, parse_arguments, values_equal

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


@dataclass(frozen=True)
class _Produced:
    """The plain value an answer stands for, or the reason (non-empty) there is none."""

    value: Any = None
    reason: str = ""


class _CruxEval(Benchmark):
    family = "cruxeval"
    source = _SOURCE
    max_new_tokens = 96
    stop = (_CLOSE,)

    def records(self, rows: Sequence[dict[str, Any]]) -> list[Record]:
        return [Record(id=str(row["id"]), fields={k: row[k] for k in ("code", "input", "output")}) for row in rows]

    def judge(self, records: Sequence[Record], completions: Sequence[str], runner: SnippetRunner) -> list[Judgement]:
        answers = [answer_text(text) for text in completions]
        produced = self.produced(records, answers, runner)
        return [_compare(record, answer, got) for record, answer, got in zip(records, answers, produced, strict=True)]

    @abstractmethod
    def produced(self, records: Sequence[Record], answers: Sequence[str], runner: SnippetRunner) -> list[_Produced]:
        """What each answer gives, read on the host as a plain value; code runs only through ``runner``."""


def _compare(record: Record, answer: str, got: _Produced) -> Judgement:
    if got.reason:
        return Judgement(False, answer, got.reason)
    try:
        expected = read_literal(record.fields["output"])
    except LiteralError as exc:
        return Judgement(False, answer, f"the record's output is not a literal ({exc})")
    correct = values_equal(expected, got.value)
    return Judgement(correct, answer, "" if correct else "not equal")


@register
class CruxEvalOutput(_CruxEval):
    """CRUXEval-O: given f and an input, predict the output (the deduction task)."""

    name = "cruxeval-o"
    title = "CRUXEval-O"

    def prompt(self, record: Record) -> str:
        examples = "".join(_output_block(e.code, e.call_input) + f"{e.output}\n{_CLOSE}\n\n" for e in _EXAMPLES)
        return _OUTPUT_INTRO + examples + _output_block(record.fields["code"], record.fields["input"])

    def produced(self, records: Sequence[Record], answers: Sequence[str], runner: SnippetRunner) -> list[_Produced]:
        """The predicted values; reading them runs nothing, so the sandbox is not needed."""
        return [_predicted(answer) for answer in answers]


def _predicted(answer: str) -> _Produced:
    if not answer:
        return _Produced(reason="no answer")
    try:
        value = ast.parse(answer, mode="eval").body
    except SyntaxError:
        return _Produced(reason="answer is not a Python expression")
    restated = _single_equality(value)
    if restated is not None:
        value = restated.comparators[0]  # the model restated the call: "f(...) == value"
    if _calls_f(value):
        return _Produced(reason="answer calls f instead of predicting its value")
    try:
        return _Produced(read_literal(ast.unparse(value)))
    except LiteralError:
        return _Produced(reason="answer is not a Python literal")


@register
class CruxEvalInput(_CruxEval):
    """CRUXEval-I: given f and an output, find an input that produces it (the abduction task)."""

    name = "cruxeval-i"
    title = "CRUXEval-I"

    def prompt(self, record: Record) -> str:
        examples = "".join(_input_block(e.code, e.output) + f"f({e.call_input})\n{_CLOSE}\n\n" for e in _EXAMPLES)
        return _INPUT_INTRO + examples + _input_block(record.fields["code"], record.fields["output"])

    def produced(self, records: Sequence[Record], answers: Sequence[str], runner: SnippetRunner) -> list[_Produced]:
        """Each call run in the sandbox; its value comes back as literal text and is read here."""
        calls = [_call(answer) for answer in answers]
        snippets = [Snippet(code=record.fields["code"], call=call, timeout_s=_TIMEOUT_S)
                    for record, call in zip(records, calls) if not isinstance(call, _Produced)]
        results = iter(runner.run_batch(snippets) if snippets else [])
        return [call if isinstance(call, _Produced) else _returned(next(results)) for call in calls]


def _call(answer: str) -> str | _Produced:
    """The call ``f(...)`` to run, with canonical literal arguments, or why the answer is refused."""
    try:
        body = ast.parse(answer, mode="eval").body
    except SyntaxError:
        return _Produced(reason="answer is not a call f(...)")
    restated = _single_equality(body)
    if restated is not None:
        body = restated.left  # the model restated "== output" after its call
    if not (isinstance(body, ast.Call) and isinstance(body.func, ast.Name) and body.func.id == "f"):
        return _Produced(reason="answer is not a call f(...)")
    if not body.args and not body.keywords:
        return "f()"
    try:
        return f"f({parse_arguments(ast.unparse(body)).text()})"
    except LiteralError:
        return _Produced(reason="the arguments of f(...) are not Python literals")


def _returned(result: ExecResult) -> _Produced:
    if not result.ok:
        return _Produced(reason=failure_reason(result))
    try:
        return _Produced(read_literal(result.value_repr or ""))
    except LiteralError:
        return _Produced(reason="f returned a value that is not a plain literal")
