"""Which of a step's proposals and solver attempts go before a person, and what they see.

The queue itself (ids, decisions, vetoes, the backlog pause) is :mod:`azr.oversight.review`;
this module turns the loop's outcomes into its items: a hashed sample of the tasks joining
the buffers and of the trained attempts, plus everything oversight flagged or vetoed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from azr.oversight import Decision
from azr.oversight.review import SAMPLE, ReviewQueue
from azr.selfplay.outcomes import Attempt, Proposal
from azr.selfplay.reward_mix import PROPOSE, SOLVE
from azr.tasks.triplet import Task

Reasoning = Callable[[str, str], str]
"""(task type, completion) -> the completion's reasoning text."""


class StepFlags:
    """Oversight's flags and vetoes on one step's proposals and completions.

    Keyed by object identity, so it must not outlive the step whose outcomes it names. A
    vetoed proposal loses its task; the task is kept here so the item still names it.
    """

    def __init__(self) -> None:
        self._why: dict[int, list[str]] = {}
        self._tasks: dict[int, Task] = {}

    def note(self, item: Proposal | Attempt, decision: Decision, task: Task | None = None) -> None:
        if decision.verdict == "allow":
            return
        monitor = f" ({decision.monitor})" if decision.monitor else ""
        self._why.setdefault(id(item), []).append(f"{decision.verdict}{monitor}: {decision.reason}")
        if task is not None:
            self._tasks[id(item)] = task

    def why(self, item: Proposal | Attempt) -> list[str]:
        return list(self._why.get(id(item), []))

    def task(self, item: Proposal | Attempt) -> Task | None:
        return self._tasks.get(id(item))


def queue_step_items(
    queue: ReviewQueue,
    step: int,
    proposals: Sequence[Proposal],
    attempts: Sequence[Attempt],
    joining: Sequence[Proposal],
    flags: StepFlags,
    reasoning: Reasoning,
) -> int:
    """Queue this step's items; returns how many. A task joining the buffers and a trained attempt
    are sampled by hash (task key, and the completion for attempts); flagged ones always go when
    ``include_flagged``."""
    if not queue.active:
        return 0
    joining_ids = {id(p) for p in joining}
    added = 0
    for proposal in proposals:
        task = proposal.verdict.task or flags.task(proposal)
        why = [SAMPLE] if id(proposal) in joining_ids and task and queue.takes_sample("task", task.key()) else []
        why += flags.why(proposal) if queue.takes_flagged else []
        if why:
            queue.add(step, proposal_item(proposal, task, reasoning, why))
            added += 1
    for attempt in attempts:
        key = attempt.task.key()
        why = [SAMPLE] if queue.takes_sample("attempt", key, attempt.rollout.text) else []
        why += flags.why(attempt) if queue.takes_flagged else []
        if why:
            queue.add(step, attempt_item(attempt, reasoning, why))
            added += 1
    return added


def proposal_item(proposal: Proposal, task: Task | None, reasoning: Reasoning, why: list[str]) -> dict[str, Any]:
    """A proposer's task as the reviewer sees it; ``task`` is None when the proposal never became one."""
    parsed = proposal.verdict.proposal
    type_name = proposal.request.task_type
    return {
        "role": PROPOSE, "task_type": type_name, "task_key": task.key() if task else None,
        "program": task.program if task else parsed.program,
        "inputs": [p.input for p in task.pairs] if task else list(parsed.inputs),
        "outputs": [p.output for p in task.pairs] if task else [],
        "message": task.message if task else parsed.message,
        "valid": proposal.verdict.valid, "verdict_reason": proposal.verdict.reason,
        "answer": None, "correct": None,
        "reasoning": reasoning(type_name, proposal.rollout.text), "why": why,
    }


def attempt_item(attempt: Attempt, reasoning: Reasoning, why: list[str]) -> dict[str, Any]:
    """A solver's answer to a task, with the task in full (the reviewer sees the hidden part too)."""
    task = attempt.task
    return {
        "role": SOLVE, "task_type": task.task_type, "task_key": task.key(), "program": task.program,
        "inputs": [p.input for p in task.pairs], "outputs": [p.output for p in task.pairs],
        "message": task.message, "valid": True, "verdict_reason": attempt.verdict.reason,
        "answer": attempt.answer.value, "correct": attempt.verdict.correct,
        "reasoning": reasoning(task.task_type, attempt.rollout.text), "why": why,
    }
