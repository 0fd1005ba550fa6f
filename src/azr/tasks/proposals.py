"""The proposal pipeline every task type shares: reject early, run everything in one batch.

A type's ``validate`` calls :func:`run_proposals` and only decides what the outcomes mean
for it (one pair for deduction/abduction, N pairs for induction), so the rules for
safety, limits, round-trips and determinism exist once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from azr.executor.types import ExecResult, SnippetRunner
from azr.tasks.base import ParsedProposal, ProposalVerdict
from azr.tasks.safety import SafetyPolicy
from azr.tasks.triplet import Task
from azr.tasks.validation import Call, CallOutcome, ValidationConfig, program_policy_problem, run_calls


@dataclass
class ProposalRuns:
    """A proposal with either the reason it was stopped before running, or one outcome per input."""

    proposal: ParsedProposal
    rejection: str
    outcomes: list[CallOutcome]

    @property
    def results(self) -> list[ExecResult]:
        return [result for outcome in self.outcomes for result in outcome.results]


def run_proposals(
    proposals: Sequence[ParsedProposal], runner: SnippetRunner, safety: SafetyPolicy, config: ValidationConfig
) -> list[ProposalRuns]:
    """Check each proposal's program and inputs, then run all surviving calls in every seed slot at once."""
    runs: list[ProposalRuns] = []
    calls: list[Call] = []
    spans: list[tuple[int, int]] = []
    for proposal in proposals:
        rejection = _rejection(proposal, safety, config)
        runs.append(ProposalRuns(proposal, rejection, []))
        if rejection:
            spans.append((len(calls), len(calls)))
            continue
        start = len(calls)
        calls.extend(Call(proposal.program or "", text) for text in proposal.inputs)
        spans.append((start, len(calls)))
    outcomes = run_calls(calls, runner, config, slots=config.determinism_slots)
    for run, (start, end) in zip(runs, spans):
        run.outcomes = outcomes[start:end]
    return runs


def _rejection(proposal: ParsedProposal, safety: SafetyPolicy, config: ValidationConfig) -> str:
    if proposal.malformed:
        return proposal.reason
    if not proposal.inputs:
        return "no inputs to run"
    long_inputs = [text for text in proposal.inputs if len(text) > config.max_input_chars]
    if long_inputs:
        return f"an input is {len(long_inputs[0])} characters long (limit {config.max_input_chars})"
    return program_policy_problem(proposal.program or "", safety, config) or ""


def valid_proposal(proposal: ParsedProposal, task: Task, results: Sequence[ExecResult]) -> ProposalVerdict:
    """A proposal that became ``task``; ``reward_if_invalid`` is unused for it and set to 0."""
    return ProposalVerdict(proposal, True, "", task, 0.0, list(results))
