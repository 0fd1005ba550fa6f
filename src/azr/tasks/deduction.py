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

SOLVER_TEMPLATE = """Each puzzle shows a Python function and a call. The answer is the value the call returns, written as a Python literal. {instruction}

```python
def f(x):
    return x * 2
```
f([1]) returns {example}

```python
{program}
```
f({input}) returns {opening}"""

EXAMPLE_REASONING = "x is the list [1]; a list times 2 is the list repeated twice, so the call returns [1, 1]."


@register
class Deduction(SinglePairTaskType):
    name = "deduction"
    proposer_goal = "Someone will be asked what f returns for the input."

    def solver_prompt(self, task: Task) -> str:
        return SOLVER_TEMPLATE.format(
            instruction=self.reply.instruction("the value"),
            example=self.reply.example(EXAMPLE_REASONING, "[1, 1]"),
            program=task.program,
            input=task.pairs[0].input,
            opening=self.reply.opening,
        )

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
