"""What a step learns about each rollout: a proposal with its verdict, an attempt with its check.

The loop builds these, the ledger payloads read them; keeping them here lets both import
them without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from azr.engine.types import Rollout
from azr.selfplay.rewards import RewardScheme, proposer_reward
from azr.tasks.base import ParsedAnswer, ProposalVerdict, ProposerRequest, Verdict
from azr.tasks.triplet import Task


@dataclass
class Attempt:
    """A solver rollout on one task, with its parsed answer and verdict."""

    task: Task
    rollout: Rollout
    answer: ParsedAnswer
    verdict: Verdict
    purpose: str
    penalty: float = 0.0
    mixed: float | None = None
    terms: dict[str, float] = field(default_factory=dict)
    honest: Verdict | None = None
    fault: str | None = None

    @property
    def task_reward(self) -> float:
        return self.verdict.reward

    @property
    def reward(self) -> float:
        """The configured mix of terms once scored (trained attempts), else the verdict's reward."""
        return (self.task_reward if self.mixed is None else self.mixed) - self.penalty


@dataclass
class Proposal:
    """A proposer rollout and everything learned about it during the step."""

    request: ProposerRequest
    rollout: Rollout
    verdict: ProposalVerdict
    scheme: RewardScheme
    solve_rate: float | None = None
    attempts: list[Attempt] = field(default_factory=list)
    penalty: float = 0.0
    mixed: float | None = None
    terms: dict[str, float] = field(default_factory=dict)

    @property
    def rewarded(self) -> bool:
        """Whether the reward is known yet: a valid proposal waits for its learnability rollouts."""
        return not self.verdict.valid or self.solve_rate is not None

    @property
    def task_reward(self) -> float:
        return proposer_reward(self.scheme, self.verdict.valid, self.verdict.reward_if_invalid, self.solve_rate)

    @property
    def reward(self) -> float:
        """The configured mix of terms once scored (trained proposals), else learnability alone."""
        return (self.task_reward if self.mixed is None else self.mixed) - self.penalty
