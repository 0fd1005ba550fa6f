"""Rewards of the two roles (Absolute Zero, eq. 4-6).

The solver's reward comes straight from the task type's verdict (1 correct, -0.5 wrong,
-1 malformed). The proposer's reward is *learnability*: a task the solver always or never
solves teaches nothing, so only solve rates strictly between 0 and 1 pay, and harder
tasks pay more.
"""

from __future__ import annotations

from typing import Sequence


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
