"""Induction: from half of a program's input/output pairs and a hint, write the program.

The proposer is handed an existing program (from the deduction or abduction pools) and
writes inputs plus a one-line hint; the pairs that run well become the task. The solver
sees the first half (:func:`visible_pairs`) and is right only if its program reproduces
every hidden pair, so fitting the shown pairs alone is not enough.
"""

from __future__ import annotations

import random
from typing import Sequence

from azr.executor.types import SnippetRunner
from azr.tasks.base import (
    ParsedAnswer,
    ParsedProposal,
    ProposalVerdict,
    ProposerRequest,
    ReferencePool,
    TaskType,
    Verdict,
    invalid_proposal,
    malformed_answer,
    verdict_for,
)
from azr.tasks.literals import LiteralError, parse_arguments, same_literal
from azr.tasks.parsing import answer_region, hint_in, inputs_in, program_in, unfence
from azr.tasks.proposals import ProposalRuns, run_proposals, valid_proposal
from azr.tasks.registry import register
from azr.tasks.triplet import IOPair, Task, hidden_pairs, visible_pairs
from azr.tasks.validation import Call, program_policy_problem, program_syntax_problem, run_calls

BASE_TYPES = ("deduction", "abduction")

PROPOSER_TEMPLATE = """For each Python function, write a one-line hint about what it does (no code in it) and {n} different calls of it, one per line. Someone will see some of the results and the hint, and must rewrite f without seeing its code. {instruction}

```python
def f(s):
    return s[::-1]
```
{example}

```python
{program}
```
{opening}"""

# The worked example shows as many calls as the proposer is asked for (up to ten): with three shown
# and four working pairs needed, the default model wrote three and failed validation.
_EXAMPLE_CALLS = (
    "f('abc')", "f('hello')", "f('a b')", "f('racecar')", "f('')", "f('Python 3')", "f('xy')", "f('12321')",
    "f('ab')", "f('Level')",
)
_EXAMPLE_PROPOSAL_REASONING = (
    "f reverses its text. Calls that show this well: short words, a palindrome, spaces, an empty string."
)

SOLVER_TEMPLATE = """Each puzzle lists calls of a Python function f with their results, and a hint. The answer is a function f in a python block that gives those results. {instruction}

f(2) == 4
f(5) == 10
Hint: it doubles the number.
{example}

{pairs}
Hint: {message}
{opening}"""

_EXAMPLE_SOLUTION = """
```python
def f(x):
    return x * 2
```
"""
_EXAMPLE_SOLUTION_REASONING = "2 gives 4 and 5 gives 10: each result is twice the number, as the hint says."

# The identity program with a few calls: the same zero-knowledge seed as the identity triplet,
# so that the solver meets induction from the first step instead of waiting for a valid proposal.
_SEED_INPUTS = ("'Hello world'", "'abc'", "[1, 2]", "7")


@register
class Induction(TaskType):
    name = "induction"

    def seed_tasks(self, seed: Task) -> list[Task]:
        """The seed's identity program on a few literal calls (each returns its argument)."""
        pairs = tuple(IOPair(text, text) for text in _SEED_INPUTS)
        return [Task(task_type=self.name, program=seed.program, pairs=pairs, message="it gives back what it gets")]

    def proposer_request(self, pool: ReferencePool, k: int, rng: random.Random) -> ProposerRequest | None:
        """None until the deduction/abduction pools hold a program to build on.

        The base program is the prompt's whole context, so ``k`` is unused: earlier
        induction tasks would lengthen the prompt without showing the proposer its program.
        """
        bases = pool.sample(list(BASE_TYPES), 1, rng)
        if not bases:
            return None
        program = bases[0].program
        n = self.config.induction.num_inputs
        proposal = "\nHint: it reverses the text.\n" + "\n".join(_EXAMPLE_CALLS[:n]) + "\n"
        prompt = PROPOSER_TEMPLATE.format(
            program=program,
            n=n,
            instruction=self.reply.instruction("the hint and the calls"),
            example=self.reply.example(_EXAMPLE_PROPOSAL_REASONING, proposal),
            opening=self.reply.opening,
        )
        return ProposerRequest(task_type=self.name, prompt=prompt, references=[], base_program=program)

    def parse_proposal(self, request: ProposerRequest, text: str) -> ParsedProposal:
        """Keeps every distinct literal input (up to ``num_inputs``); malformed only if none is usable."""
        program = request.base_program
        region = answer_region(text)
        message = hint_in(region)
        if not message:
            reason = "no hint found (a 'Hint:' line or a ```message block)"
            return ParsedProposal(request, True, reason, program, [], "")
        inputs: list[str] = []
        for block in inputs_in(region):
            try:
                argument_text = parse_arguments(block).text()
            except LiteralError:
                continue
            if argument_text not in inputs:
                inputs.append(argument_text)
        if not inputs:
            reason = "no input is a literal call f(...) or ```input block"
            return ParsedProposal(request, True, reason, program, [], message)
        return ParsedProposal(request, False, "", program, inputs[: self.config.induction.num_inputs], message)

    def validate(self, proposals: Sequence[ParsedProposal], runner: SnippetRunner) -> list[ProposalVerdict]:
        return [self._verdict(run) for run in run_proposals(proposals, runner, self.safety, self.config.validation)]

    def _verdict(self, run: ProposalRuns) -> ProposalVerdict:
        proposal = run.proposal
        if run.rejection:
            return invalid_proposal(proposal, run.rejection)
        settings = self.config.induction
        pairs = tuple(IOPair(text, o.output) for text, o in zip(proposal.inputs, run.outcomes) if o.output is not None)
        if len(pairs) < settings.min_pairs:
            failures = "; ".join(sorted({o.reason for o in run.outcomes if not o.ok}))
            reason = f"only {len(pairs)} of {len(proposal.inputs)} inputs ran well (need {settings.min_pairs})"
            return invalid_proposal(proposal, f"{reason}: {failures}" if failures else reason, run.results)
        if len({p.output for p in pairs}) < settings.min_distinct_outputs:
            reason = f"the pairs have fewer than {settings.min_distinct_outputs} distinct outputs"
            return invalid_proposal(proposal, reason, run.results)
        task = Task(task_type=self.name, program=proposal.program or "", pairs=pairs, message=proposal.message)
        return valid_proposal(proposal, task, run.results)

    def solver_prompt(self, task: Task) -> str:
        shown = "\n".join(f"f({p.input}) == {p.output}" for p in visible_pairs(task))
        return SOLVER_TEMPLATE.format(
            instruction=self.reply.instruction("the function"),
            example=self.reply.example(_EXAMPLE_SOLUTION_REASONING, _EXAMPLE_SOLUTION),
            pairs=shown,
            message=task.message or "(none)",
            opening=self.reply.opening,
        )

    def parse_answer(self, task: Task, text: str) -> ParsedAnswer:
        region = answer_region(text)
        program = program_in(region) or unfence(region)
        problem = program_syntax_problem(program)
        if problem:
            return malformed_answer(problem)
        return ParsedAnswer(malformed=False, reason="", value=program)

    def check(self, tasks: Sequence[Task], answers: Sequence[ParsedAnswer], runner: SnippetRunner) -> list[Verdict]:
        calls: list[Call] = []
        spans: dict[int, tuple[int, int]] = {}
        refusals: dict[int, str] = {}
        for i, (task, answer) in enumerate(zip(tasks, answers, strict=True)):
            if answer.malformed or answer.value is None:
                continue
            refusal = program_policy_problem(answer.value, self.safety, self.config.validation)
            if refusal:
                refusals[i] = refusal
                continue
            start = len(calls)
            calls.extend(Call(answer.value, pair.input) for pair in hidden_pairs(task))
            spans[i] = (start, len(calls))
        outcomes = run_calls(calls, runner, self.config.validation)
        verdicts = []
        for i, (task, answer) in enumerate(zip(tasks, answers)):
            if i not in spans:
                verdicts.append(verdict_for(answer, False, refusals.get(i, "")))
                continue
            start, end = spans[i]
            mine = outcomes[start:end]
            results = [r for o in mine for r in o.results]
            misses = [
                f"f({pair.input}) " + (f"returned {o.output}, expected {pair.output}" if o.ok else o.reason)
                for pair, o in zip(hidden_pairs(task), mine)
                if not (o.ok and same_literal(o.output or "", pair.output))
            ]
            reason = f"{len(misses)} of {len(mine)} hidden pairs wrong; first: {misses[0]}" if misses else ""
            verdicts.append(verdict_for(answer, not misses, reason, results))
        return verdicts
