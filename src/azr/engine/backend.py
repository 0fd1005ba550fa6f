"""The rollout backend contract, so a faster sampler (vLLM, SGLang) can replace ours.

A backend turns token-id prompts into sampled completions with the log-probability of
every sampled token, and takes fresh weights after each update. It knows nothing of chat
templates, rewards or training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import torch

from azr.engine.types import SamplingParams


@dataclass(frozen=True)
class Completion:
    """One sampled continuation; ``logprobs[i]`` belongs to ``token_ids[i]``."""

    token_ids: list[int]
    logprobs: list[float]
    text: str
    finish_reason: str


class RolloutBackend(Protocol):
    def generate(self, prompts: Sequence[list[int]], params: SamplingParams) -> list[Completion]:
        """Return ``params.n`` completions for each prompt, grouped by prompt, in prompt order."""
        ...

    def sync_weights(self, policy: torch.nn.Module) -> None:
        """Take the trained policy's current weights before the next rollouts."""
        ...

    def suspend(self) -> None:
        """Free the accelerator memory the backend holds while an update runs; ``sync_weights`` or
        ``generate`` brings it back."""
        ...
