"""Proposals of one program and one input: the shared half of deduction and abduction.

Both types ask the proposer for the same thing and validate it the same way; they differ
only in what the solver is shown and asked, which their subclasses define.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Callable, ClassVar, Sequence

from azr.executor.types import SnippetRunner
from azr.tasks.base import (
    ParsedAnswer,
    ParsedProposal,
    ProposalVerdict,
    ProposerRequest,
    ReferencePool,
    TaskType,
    invalid_proposal,
    malformed_answer,
)
from azr.tasks.literals import LiteralError, parse_arguments
from azr.tasks.parsing import answer_block, answer_region, inputs_in, program_in, unfence
from azr.tasks.proposals import run_proposals, valid_proposal
from azr.tasks.triplet import SEED_TASK, IOPair, Task
from azr.tasks.validation import program_syntax_problem

PROPOSER_TEMPLATE = """Each puzzle is a short Python function f with one input for it. {goal}
f must be deterministic: no randomness, no clock, no files, no os or sys.
{instruction}

{references}

A new puzzle, different from the ones above:
{opening}"""

# The input is shown as a call line, not an ```input fence: the default model then wrote a
# readable input twice as often (88 vs 51 of 192 sampled proposals) and a valid puzzle 39
# vs 27 times. Both forms are accepted when parsing. Each reference also says what its call
# returned (the AZR reference shows program, input and output), outside the answer block so
# that the block a proposer copies stays a program and a call.
REFERENCE_TEMPLATE = """{reply}
It returns {output}."""

REFERENCE_ANSWER = """
```python
{program}
```
f({input})
"""

WORKED_EXAMPLE = Task(
    task_type="example",
    program="def f(nums):\n    return sum(n for n in nums if n % 2 == 0)",
    pairs=(IOPair("[3, 4, 7, 10]", "14"),),
)
WORKED_REASONING = (
    "A puzzle should need a few steps of thought: filter a list, then add up what is left. "
    "On [3, 4, 7, 10] the even numbers are 4 and 10, so f returns 14."
)


class SinglePairTaskType(TaskType):
    """A task type whose proposals are a program plus one input."""

    proposer_goal: ClassVar[str]

    def seed_tasks(self, seed: Task) -> list[Task]:
        """The seed triplet itself, asked as this type."""
        return [dataclasses.replace(seed, task_type=self.name)]

    def proposer_request(self, pool: ReferencePool, k: int, rng: random.Random) -> ProposerRequest | None:
        """Never None: an empty pool shows the seed triplet; a fixed worked example always leads."""
        references = pool.sample([self.name], k, rng) if k > 0 else []
        shown = [self._reference(WORKED_EXAMPLE, WORKED_REASONING)]
        shown += [self._reference(t, None) for t in references or self.seed_tasks(SEED_TASK)]
        prompt = PROPOSER_TEMPLATE.format(goal=self.proposer_goal, instruction=self.reply.instruction("the puzzle"),
                                          references="\n\n".join(shown), opening=self.reply.opening)
        return ProposerRequest(task_type=self.name, prompt=prompt, references=references)

    def _reference(self, task: Task, reasoning: str | None) -> str:
        """A shown puzzle; only the worked example carries reasoning (references have none recorded)."""
        answer = REFERENCE_ANSWER.format(program=task.program, input=task.pairs[0].input)
        reply = self.reply.example(reasoning, answer) if reasoning else f"<answer>{answer}</answer>"
        return REFERENCE_TEMPLATE.format(reply=reply, output=task.pairs[0].output)

    def parse_proposal(self, request: ProposerRequest, text: str) -> ParsedProposal:
        region = answer_region(text)
        program = program_in(region)
        problem = program_syntax_problem(program)
        if problem:
            return ParsedProposal(request, True, problem, program, [], "")
        inputs = inputs_in(region)
        if not inputs:
            return ParsedProposal(request, True, "no ```input block or call line f(...) found", program, [], "")
        try:
            argument_text = parse_arguments(inputs[0]).text()
        except LiteralError as exc:
            return ParsedProposal(request, True, f"the input is not a literal argument list: {exc}", program, [], "")
        return ParsedProposal(request, False, "", program, [argument_text], "")

    def validate(self, proposals: Sequence[ParsedProposal], runner: SnippetRunner) -> list[ProposalVerdict]:
        verdicts = []
        for run in run_proposals(proposals, runner, self.safety, self.config.validation):
            if run.rejection:
                verdicts.append(invalid_proposal(run.proposal, run.rejection))
                continue
            outcome = run.outcomes[0]
            if not outcome.ok:
                verdicts.append(invalid_proposal(run.proposal, outcome.reason, run.results))
                continue
            pair = IOPair(input=run.proposal.inputs[0], output=outcome.output or "")
            task = Task(task_type=self.name, program=run.proposal.program or "", pairs=(pair,))
            verdicts.append(valid_proposal(run.proposal, task, run.results))
        return verdicts

    @staticmethod
    def literal_answer(text: str, read: Callable[[str], str], what: str) -> ParsedAnswer:
        """The ``<answer>`` block read by ``read`` (which raises :class:`LiteralError`), or why not."""
        block = answer_block(text)
        if block is None:
            return malformed_answer("no <answer> block found")
        try:
            return ParsedAnswer(malformed=False, reason="", value=read(unfence(block)))
        except LiteralError as exc:
            return malformed_answer(f"the answer is not {what}: {exc}")
