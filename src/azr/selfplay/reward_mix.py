"""Value shaping: a role's reward as a configured, weighted sum of named terms.

Absolute Zero pays correctness alone (the solver) and learnability alone (the proposer).
A user who wants to trade raw performance for transparency adds terms, for example

    selfplay.rewards.solve = {correctness: 1.0, explainability: 0.3}

Every term's value is recorded in the ledger beside the total, so the trade is visible.
The defaults are the task rewards alone, weight 1, which reproduce the paper exactly.

The terms:

- ``correctness`` (solve) and ``learnability`` (propose): the task type's own reward under
  the run's reward scheme (:mod:`azr.selfplay.rewards`).
- ``explainability`` (both roles): 1 when the reasoning states what the reply answers (the
  solver's answer; the proposer's inputs, as the share of them it states), else 0; with
  no reasoning, 0. It is a rule, so it cannot be argued with, and it is cheap to game by
  repeating the answer: a model judge is the stronger signal where one is affordable.
- ``preference`` (both roles): ``tanh`` of a reward model's score of prompt and completion,
  from any sequence-classification model directory (``selfplay.rewards.preference_model``).

Oversight verdicts are not terms: they veto, flag, slow or pause, and their penalty stays
a separate opt-in (docs/oversight.md), because training against a monitor teaches hiding.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Sequence

from pydantic import Field, field_validator, model_validator

from azr.config import StrictModel

PROPOSE, SOLVE = "propose", "solve"


@dataclass(frozen=True)
class Graded:
    """One trained rollout as the terms see it, whichever role wrote it."""

    role: str
    prompt: str
    completion: str
    reasoning: str
    stated: tuple[str, ...]
    task_reward: float


class RewardTerm(ABC):
    """A named quantity in a reward; scores a whole batch so a model term runs once a step."""

    name: ClassVar[str]
    roles: ClassVar[frozenset[str]] = frozenset({PROPOSE, SOLVE})

    @abstractmethod
    def score(self, items: Sequence[Graded]) -> list[float]:
        """One value per item, in order."""


class TaskReward(RewardTerm):
    """The task type's own reward: the executor's verdict, as Absolute Zero pays it."""

    def score(self, items: Sequence[Graded]) -> list[float]:
        return [item.task_reward for item in items]


class Correctness(TaskReward):
    name = "correctness"
    roles = frozenset({SOLVE})


class Learnability(TaskReward):
    name = "learnability"
    roles = frozenset({PROPOSE})


_SPACE = re.compile(r"\s+")


def _squeezed(text: str) -> str:
    return _SPACE.sub("", text)


class Explainability(RewardTerm):
    """Whether the reasoning arrives at what the reply answers, compared without whitespace."""

    name = "explainability"

    def score(self, items: Sequence[Graded]) -> list[float]:
        values = []
        for item in items:
            reasoning = _squeezed(item.reasoning)
            stated = [s for s in (_squeezed(s) for s in item.stated) if s]
            if not reasoning or not stated:
                values.append(0.0)
            else:
                values.append(sum(s in reasoning for s in stated) / len(stated))
        return values


class Preference(RewardTerm):
    """A reward model's judgement of the whole exchange, squashed into (-1, 1).

    Loaded on first use, so a run that gives it weight 0 never pays for it.
    """

    name = "preference"

    def __init__(self, model_dir: Path, max_tokens: int, batch_size: int) -> None:
        self.model_dir = model_dir
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self._model = None
        self._tokenizer = None

    def _load(self) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if not self.model_dir.is_dir():
            raise FileNotFoundError(f"selfplay.rewards.preference_model: {self.model_dir} is not a model directory")
        self._tokenizer = AutoTokenizer.from_pretrained(self.model_dir)
        self._model = AutoModelForSequenceClassification.from_pretrained(self.model_dir).eval()
        if self._tokenizer.pad_token is None:
            self._tokenizer.pad_token = self._tokenizer.eos_token
        self._model.config.pad_token_id = self._tokenizer.pad_token_id

    def score(self, items: Sequence[Graded]) -> list[float]:
        import torch

        if self._model is None:
            self._load()
        values: list[float] = []
        for start in range(0, len(items), self.batch_size):
            chunk = items[start : start + self.batch_size]
            batch = self._tokenizer([i.prompt + i.completion for i in chunk], return_tensors="pt", padding=True,
                                    truncation=True, max_length=self.max_tokens)
            with torch.no_grad():
                logits = self._model(**batch).logits
            values += [math.tanh(float(row[0])) for row in logits]
        return values


DEFAULT_WEIGHTS = {PROPOSE: {"learnability": 1.0}, SOLVE: {"correctness": 1.0}}


class RewardMixConfig(StrictModel):
    """Weights of the named terms in each role's reward (docs/oversight.md, "Value shaping").

    Given weights are added to the defaults, so ``selfplay.rewards.solve.explainability=0.3``
    keeps correctness at 1; a default term leaves the mix only when set to 0.
    """

    propose: dict[str, float] = Field(DEFAULT_WEIGHTS[PROPOSE], description="proposer terms and their weights")
    solve: dict[str, float] = Field(DEFAULT_WEIGHTS[SOLVE], description="solver terms and their weights")
    preference_model: Path | None = Field(None, description="a sequence-classification model directory")
    preference_max_tokens: int = Field(1024, ge=16)
    preference_batch_size: int = Field(8, ge=1)

    @field_validator("propose", "solve", mode="after")
    @classmethod
    def _over_defaults(cls, weights: dict[str, float], info) -> dict[str, float]:
        return {**DEFAULT_WEIGHTS[info.field_name], **weights}

    @model_validator(mode="after")
    def _known_terms(self) -> RewardMixConfig:
        for role, weights in ((PROPOSE, self.propose), (SOLVE, self.solve)):
            fitting = sorted(t.name for t in TERM_TYPES if role in t.roles)
            for name, weight in weights.items():
                if name not in fitting:
                    raise ValueError(f"selfplay.rewards.{role}: unknown term {name!r}; {role} terms are {fitting}")
                if not math.isfinite(weight):
                    raise ValueError(f"selfplay.rewards.{role}.{name}: weight must be finite, got {weight}")
            if not any(weights.values()):
                raise ValueError(f"selfplay.rewards.{role}: at least one term needs a non-zero weight")
            if weights.get("preference") and self.preference_model is None:
                raise ValueError(f"selfplay.rewards.{role} weighs 'preference' but selfplay.rewards.preference_model "
                                 "is unset: name a sequence-classification model directory")
        return self


TERM_TYPES: tuple[type[RewardTerm], ...] = (Correctness, Learnability, Explainability, Preference)


class RewardMix:
    """Scores trained rollouts with every weighted term and sums them per role."""

    def __init__(self, config: RewardMixConfig) -> None:
        self.weights = {PROPOSE: dict(config.propose), SOLVE: dict(config.solve)}
        self.terms: dict[str, RewardTerm] = {
            "correctness": Correctness(),
            "learnability": Learnability(),
            "explainability": Explainability(),
        }
        if config.preference_model is not None:
            self.terms["preference"] = Preference(config.preference_model, config.preference_max_tokens,
                                                  config.preference_batch_size)

    def score(self, items: Sequence[Graded]) -> list[tuple[float, dict[str, float]]]:
        """Per item, its reward and each weighted term's unweighted value, by name."""
        values: list[dict[str, float]] = [{} for _ in items]
        for role, weights in self.weights.items():
            indices = [i for i, item in enumerate(items) if item.role == role]
            for name, weight in weights.items():
                if not weight or not indices:
                    continue
                for i, value in zip(indices, self.terms[name].score([items[i] for i in indices]), strict=True):
                    values[i][name] = value
        return [(sum(self.weights[item.role][n] * v for n, v in terms.items()), terms)
                for item, terms in zip(items, values)]
