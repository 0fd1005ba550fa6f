"""Abduction: given a program and an output, find an input that produces it.

Any input counts, not only the proposer's, so an answer is checked by running the
program on it in the executor and comparing the result with the recorded output.
"""

from __future__ import annotations

from typing import Sequence

from azr.executor.types import SnippetRunner
from azr.tasks.base import ParsedAnswer, Verdict, verdict_for
from azr.tasks.literals import parse_arguments, same_literal
from azr.tasks.registry import register
from azr.tasks.single_pair import SinglePairTaskType
from azr.tasks.triplet import Task
from azr.tasks.validation import Call, run_calls

SOLVER_TEMPLATE = """Each puzzle shows a Python function and a value it returned. The answer is an input that makes f return that value, written as Python literals. {instruction}

```python
def f(x):
    return x * 2
```
f returns [1, 1] for the input {example}

```python
{program}
```
f returns {output} for the input {opening}"""

EXAMPLE_REASONING = "f doubles x. A list doubled repeats itself, so [1, 1] is [1] doubled: the input is [1]."


@register
class Abduction(SinglePairTaskType):
    name = "abduction"
    proposer_goal = "Someone will see f and its output and must find an input that gives it."

    def solver_prompt(self, task: Task) -> str:
        return SOLVER_TEMPLATE.format(
            instruction=self.reply.instruction("the input"),
            example=self.reply.example(EXAMPLE_REASONING, "[1]"),
            program=task.program,
            output=task.pairs[0].output,
            opening=self.reply.opening,
        )

    def parse_answer(self, task: Task, text: str) -> ParsedAnswer:
        return self.literal_answer(text, lambda text: parse_arguments(text).text(), "a literal argument list")

    def check(self, tasks: Sequence[Task], answers: Sequence[ParsedAnswer], runner: SnippetRunner) -> list[Verdict]:
        checked = [i for i, a in enumerate(answers) if not a.malformed and a.value is not None]
        calls = [Call(tasks[i].program, answers[i].value or "") for i in checked]
        outcomes = dict(zip(checked, run_calls(calls, runner, self.config.validation)))
        verdicts = []
        for i, (task, answer) in enumerate(zip(tasks, answers, strict=True)):
            outcome = outcomes.get(i)
            if outcome is None:
                verdicts.append(verdict_for(answer, False, ""))
                continue
            expected = task.pairs[0].output
            if not outcome.ok:
                verdicts.append(verdict_for(answer, False, f"f({answer.value}) {outcome.reason}", outcome.results))
                continue
            correct = same_literal(outcome.output or "", expected)
            reason = "" if correct else f"f({answer.value}) returned {outcome.output}, expected {expected}"
            verdicts.append(verdict_for(answer, correct, reason, outcome.results))
        return verdicts
