"""The interface every task type implements, and the records that flow through it.

The self-play loop only talks to :class:`TaskType`; it never asks which type it holds.
A new type is a new subclass registered with :func:`azr.tasks.registry.register`.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar, Protocol, Sequence

from azr.executor.types import ExecResult, SnippetRunner
from azr.tasks.config import TasksConfig
from azr.tasks.reply import ReplyFormat
from azr.tasks.safety import SafetyPolicy
from azr.tasks.triplet import Task

REWARD_CORRECT = 1.0
REWARD_WRONG = -0.5
REWARD_MALFORMED = -1.0


class ReferencePool(Protocol):
    """Where proposer prompts get their example tasks (the buffers implement this)."""

    def sample(self, task_types: Sequence[str], k: int, rng: random.Random) -> list[Task]: ...


@dataclass
class ProposerRequest:
    """One proposer prompt and what it was built from, so the parse can use the same context."""

    task_type: str
    prompt: str
    references: list[Task]
    base_program: str | None = None


@dataclass
class ParsedProposal:
    """What was read out of a proposer's text; ``malformed`` proposals are never run."""

    request: ProposerRequest
    malformed: bool
    reason: str
    program: str | None
    inputs: list[str]
    message: str


@dataclass
class ProposalVerdict:
    """Whether a proposal became a task. ``results`` keeps every executor outcome for the ledger."""

    proposal: ParsedProposal
    valid: bool
    reason: str
    task: Task | None
    reward_if_invalid: float
    results: list[ExecResult] = field(default_factory=list)


@dataclass
class ParsedAnswer:
    """A solver's extracted answer: literal text or program text, or why there is none."""

    malformed: bool
    reason: str
    value: str | None


@dataclass
class Verdict:
    """The checked answer and the solver's reward: 1 correct, -0.5 wrong, -1 malformed."""

    correct: bool
    malformed: bool
    reason: str
    reward: float
    results: list[ExecResult] = field(default_factory=list)


def malformed_answer(reason: str) -> ParsedAnswer:
    return ParsedAnswer(malformed=True, reason=reason, value=None)


def verdict_for(answer: ParsedAnswer, correct: bool, reason: str, results: Sequence[ExecResult] = ()) -> Verdict:
    """The verdict and reward for an answer; malformed answers are never correct."""
    if answer.malformed:
        return Verdict(False, True, answer.reason, REWARD_MALFORMED, list(results))
    return Verdict(correct, False, reason, REWARD_CORRECT if correct else REWARD_WRONG, list(results))


def invalid_proposal(proposal: ParsedProposal, reason: str, results: Sequence[ExecResult] = ()) -> ProposalVerdict:
    """A rejected proposal; the reward tells malformed text (-1) from a bad task (-0.5)."""
    reward = REWARD_MALFORMED if proposal.malformed else REWARD_WRONG
    return ProposalVerdict(proposal, False, reason, None, reward, list(results))


class TaskType(ABC):
    """One kind of task: how to ask for it, how to read proposals and answers, how to check them."""

    name: ClassVar[str]

    def __init__(self, config: TasksConfig | None = None) -> None:
        self.config = config or TasksConfig()
        self.safety = SafetyPolicy(self.config.safety)
        self.reply = ReplyFormat(self.config.reply_style)

    def read_proposal(self, request: ProposerRequest, text: str) -> ParsedProposal:
        """A proposer's completion checked for the reply's shape first (a wrong shape is malformed)."""
        problem = self.reply.problem(text)
        if problem:
            return ParsedProposal(request, True, problem, None, [], "")
        return self.parse_proposal(request, text)

    def read_answer(self, task: Task, text: str) -> ParsedAnswer:
        """A solver's completion checked for the reply's shape first (a wrong shape is malformed)."""
        problem = self.reply.problem(text)
        return malformed_answer(problem) if problem else self.parse_answer(task, text)

    def seed_tasks(self, seed: Task) -> list[Task]:
        """Tasks of this type that ``seed`` (the identity triplet) supplies before any proposal.

        None by default: a type whose tasks need more than one pair (induction) is seeded
        by proposals built on the other types' programs.
        """
        return []

    @abstractmethod
    def proposer_request(self, pool: ReferencePool, k: int, rng: random.Random) -> ProposerRequest | None:
        """A proposer prompt with up to ``k`` references; None when the pool lacks what it needs."""

    @abstractmethod
    def parse_proposal(self, request: ProposerRequest, text: str) -> ParsedProposal:
        """Read a proposer's completion; never runs code."""

    @abstractmethod
    def validate(self, proposals: Sequence[ParsedProposal], runner: SnippetRunner) -> list[ProposalVerdict]:
        """Turn proposals into tasks, one verdict each, in order, with few ``run_batch`` calls."""

    @abstractmethod
    def solver_prompt(self, task: Task) -> str:
        """The question the solver sees, including the answer format the parser expects."""

    @abstractmethod
    def parse_answer(self, task: Task, text: str) -> ParsedAnswer:
        """Read a solver's completion; never runs code."""

    @abstractmethod
    def check(self, tasks: Sequence[Task], answers: Sequence[ParsedAnswer], runner: SnippetRunner) -> list[Verdict]:
        """Verify answers against their tasks, one verdict each, in order, batched."""
