"""The engine's contract: what generation returns and what an update consumes.

Kept free of torch so the self-play loop, the ledger and tests can use these types
without loading a model.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SamplingParams:
    """How to sample. ``n`` completions are drawn for every prompt.

    ``ignore_eos`` keeps sampling past end-of-text until ``max_new_tokens`` or a stop
    string (for benchmarks that must compare equal amounts of work).
    """

    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 256
    stop: tuple[str, ...] = ()
    n: int = 1
    seed: int | None = None
    ignore_eos: bool = False


@dataclass(frozen=True)
class Rollout:
    """One sampled completion with the token ids and log-probs under the sampling policy.

    ``prompt_index`` says which of the input prompts it answers; ``logprobs[i]`` is the
    log-probability of ``completion_ids[i]`` under the policy at ``temperature`` (the
    sampling temperature, 1.0 for greedy), before any top-p truncation.
    """

    prompt_index: int
    prompt_text: str
    prompt_ids: list[int]
    completion_ids: list[int]
    logprobs: list[float]
    text: str
    finish_reason: str
    temperature: float = 1.0

    def to_sample(self, reward: float, group: str) -> "TrainSample":
        """The training sample for this rollout, carrying what the update must recompute."""
        return TrainSample(
            prompt_ids=self.prompt_ids,
            completion_ids=self.completion_ids,
            old_logprobs=self.logprobs,
            reward=reward,
            group=group,
            temperature=self.temperature,
        )


@dataclass(frozen=True)
class TrainSample:
    """A rollout with its reward and its (task type, role) group, ready for one update.

    ``temperature`` is the one the rollout was sampled at: the update divides the logits
    by it so that new and old log-probs describe the same policy.
    """

    prompt_ids: list[int]
    completion_ids: list[int]
    old_logprobs: list[float]
    reward: float
    group: str
    temperature: float = 1.0


@dataclass
class UpdateStats:
    """What an update did, named after the quantities in the loss.

    ``sampler_logprob_gap`` (mean) and ``sampler_logprob_gap_max`` compare, over every
    completion token, the sampler's log-prob with the training model's recomputed one,
    which is what the ratio uses: near 0 in float32, larger for a bf16 sampler.
    """

    loss: float
    policy_loss: float
    kl: float = 0.0
    entropy: float = 0.0
    clip_fraction: float = 0.0
    grad_norm: float = 0.0
    tokens: int = 0
    seconds: float = 0.0
    peak_memory_bytes: int = 0
    advantages: list[float] = field(default_factory=list)
    optimizer_steps: int = 0
    sampler_logprob_gap: float = 0.0
    sampler_logprob_gap_max: float = 0.0
    weight_sync_seconds: float = 0.0
