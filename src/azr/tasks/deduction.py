"""Deduction: given a program and an input, predict the output.

Checking needs no execution: the output was recorded when the task was validated, and
the answer is compared with it as a Python value.
"""

from __future__ import annotations

from typing import Sequence

from azr.executor.types import SnippetRunner
from azr.tasks.base import ParsedAnswer, Verdict, verdict_for
from azr.tasks.literals import canonical_literal, same_literal
from azr.tasks.registry import register
from azr.tasks.single_pair import SinglePairTaskType
from azr.tasks.triplet import Task

SOLVER_TEMPLATE = """Work out what this Python function returns.

```python
{program}
```
Call: f({input})

Think step by step inside <think></think>, then write the returned value as a Python literal inside <answer></answer>.
Example: for `def f(x): return x * 2` and the call f([1]), the reply ends with <answer>[1, 1]</answer>."""


@register
class Deduction(SinglePairTaskType):
    name = "deduction"
    proposer_goal = "predict what f returns for your input, so the input must be a valid call of f"

    def solver_prompt(self, task: Task) -> str:
        return SOLVER_TEMPLATE.format(program=task.program, input=task.pairs[0].input)

    def parse_answer(self, task: Task, text: str) -> ParsedAnswer:
        return self.literal_answer(text, canonical_literal, "a Python literal")

    def check(self, tasks: Sequence[Task], answers: Sequence[ParsedAnswer], runner: SnippetRunner) -> list[Verdict]:
        verdicts = []
        for task, answer in zip(tasks, answers, strict=True):
            if answer.malformed or answer.value is None:
                verdicts.append(verdict_for(answer, False, ""))
                continue
            expected = task.pairs[0].output
            correct = same_literal(answer.value, expected)
            verdicts.append(verdict_for(answer, correct, "" if correct else f"expected {expected}, got {answer.value}"))
        return verdicts
