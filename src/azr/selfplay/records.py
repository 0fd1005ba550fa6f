"""The ledger payloads of a step: plain JSON, complete enough to replay what happened.

Nothing the model wrote is dropped: the prompt, the full completion, what was parsed out
of it, the verdict with its reason and the executor's results all go in.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from azr.selfplay.outcomes import Attempt, Proposal
from azr.tasks.triplet import IOPair, Task


def task_to_dict(task: Task) -> dict[str, Any]:
    return {
        "task_type": task.task_type,
        "program": task.program,
        "pairs": [{"input": p.input, "output": p.output} for p in task.pairs],
        "message": task.message,
    }


def task_from_dict(data: dict[str, Any]) -> Task:
    return Task(
        task_type=data["task_type"],
        program=data["program"],
        pairs=tuple(IOPair(input=p["input"], output=p["output"]) for p in data["pairs"]),
        message=data.get("message", ""),
    )


def proposal_payload(proposal: Proposal, phase: str) -> dict[str, Any]:
    parsed = proposal.verdict.proposal
    task = proposal.verdict.task
    return {
        "phase": phase,
        "task_type": proposal.request.task_type,
        "prompt": proposal.request.prompt,
        "references": [ref.key() for ref in proposal.request.references],
        "base_program": proposal.request.base_program,
        "completion": proposal.rollout.text,
        "finish_reason": proposal.rollout.finish_reason,
        "completion_tokens": len(proposal.rollout.completion_ids),
        "malformed": parsed.malformed,
        "program": parsed.program,
        "inputs": list(parsed.inputs),
        "message": parsed.message,
        "valid": proposal.verdict.valid,
        "reason": proposal.verdict.reason,
        "task_key": task.key() if task is not None else None,
        "task": task_to_dict(task) if task is not None else None,
        "executions": [asdict(result) for result in proposal.verdict.results],
        "solve_rate": proposal.solve_rate,
        "reward": proposal.reward if proposal.rewarded else None,
        "penalty": proposal.penalty,
        "reward_terms": dict(proposal.terms),
    }


def attempt_payload(attempt: Attempt) -> dict[str, Any]:
    return {
        "purpose": attempt.purpose,
        "task_type": attempt.task.task_type,
        "task_key": attempt.task.key(),
        "completion": attempt.rollout.text,
        "finish_reason": attempt.rollout.finish_reason,
        "completion_tokens": len(attempt.rollout.completion_ids),
        "answer": attempt.answer.value,
        "malformed": attempt.verdict.malformed,
        "correct": attempt.verdict.correct,
        "reason": attempt.verdict.reason,
        "reward": attempt.reward,
        "penalty": attempt.penalty,
        "reward_terms": dict(attempt.terms),
        **({"fault": attempt.fault, "honest_correct": attempt.honest.correct} if attempt.honest else {}),
    }


def task_payload(task: Task, step: int, solve_rate: float | None, origin: str) -> dict[str, Any]:
    """A task that joined its buffer; ``origin`` is seed, seeding or proposal."""
    return {"task_key": task.key(), "step": step, "solve_rate": solve_rate, "origin": origin,
            "task": task_to_dict(task)}
