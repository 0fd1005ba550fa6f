"""Rewards of the two roles, under either of Absolute Zero's two schemes.

The solver's reward comes straight from the task type's verdict (1 correct, -0.5 wrong,
-1 malformed) in both schemes. The proposer's reward is *learnability*: a task the solver
always or never solves teaches nothing, so only solve rates strictly between 0 and 1 pay
``1 - s``, and harder tasks pay more. The schemes differ in what a proposal that teaches
nothing gets:

- ``equations`` (the paper's eq. 4-6): a valid task solved always or never gets 0; an
  invalid but well-formed proposal -0.5; a malformed one -1.
- ``reference`` (the public code that produced the published numbers): a valid task solved
  always or never gets -0.5, so a trivial task is punished rather than neutral, and every
  invalid proposal gets -1.
"""

from __future__ import annotations

from typing import Literal, Sequence

RewardScheme = Literal["reference", "equations"]

TRIVIAL_TASK_PENALTY = -0.5
INVALID_PROPOSAL_PENALTY = -1.0


def solve_rate(correct: Sequence[bool]) -> float:
    """Mean success over the learnability rollouts; an empty list is an error, not 0."""
    if not correct:
        raise ValueError("solve_rate needs at least one rollout")
    return sum(1.0 for c in correct if c) / len(correct)


def learnability(rate: float) -> float:
    """``1 - s`` for ``0 < s < 1``, else 0 (paper eq. 4)."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"solve rate must lie in [0, 1], got {rate}")
    if rate == 0.0 or rate == 1.0:
        return 0.0
    return 1.0 - rate


def proposer_reward(scheme: RewardScheme, valid: bool, reward_if_invalid: float, rate: float | None) -> float:
    """The proposer's reward for one proposal.

    ``reward_if_invalid`` is the task layer's verdict for an invalid proposal (-1 malformed,
    -0.5 well-formed); ``rate`` is the solve rate of a valid one.
    """
    if not valid:
        return INVALID_PROPOSAL_PENALTY if scheme == "reference" else reward_if_invalid
    if rate is None:
        raise ValueError("a valid proposal is rewarded only after its learnability rollouts")
    paid = learnability(rate)
    if scheme == "reference" and paid == 0.0:
        return TRIVIAL_TASK_PENALTY
    return paid
