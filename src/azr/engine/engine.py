"""The engine: one object that loads the policy, samples rollouts, updates and checkpoints it.

Training always keeps float32 weights (an lr of 1e-6 vanishes in bf16 rounding); with
bf16 the forward and backward passes run under autocast and rollouts come from a bf16
copy of the policy that is refreshed after every update.
"""

from __future__ import annotations

import copy
import logging
from typing import Sequence

import torch
from transformers import PreTrainedModel

from azr.engine.backend import RolloutBackend
from azr.engine.config import EngineConfig
from azr.engine.hardware import resolve_device, resolve_dtype
from azr.engine.models import LoadedModel, load_model
from azr.engine.prompting import PromptFormatter
from azr.engine.transformers_backend import TransformersBackend
from azr.engine.types import Rollout, SamplingParams

log = logging.getLogger(__name__)


class Engine:
    """The policy model and everything done to it."""

    def __init__(self, loaded: LoadedModel, config: EngineConfig) -> None:
        self.config = config
        self.device = resolve_device(config.device)
        self.dtype = resolve_dtype(config.dtype, self.device)
        self.source = loaded.source
        torch.manual_seed(config.seed)
        self.tokenizer = loaded.tokenizer
        self.formatter = PromptFormatter(self.tokenizer, config.chat_template)
        self.policy: PreTrainedModel = loaded.model.to(self.device)
        self.backend: RolloutBackend = TransformersBackend(
            self._rollout_model(), self.tokenizer, config.rollout_batch_size or self._default_rollout_batch()
        )
        log.info("engine ready: %s on %s in %s", self.source, self.device, self.dtype)

    @classmethod
    def from_config(cls, config: EngineConfig) -> "Engine":
        return cls(load_model(config.model, config.cache_dir), config)

    def _default_rollout_batch(self) -> int:
        return 256 if self.device.type == "cuda" else 16

    def _rollout_model(self) -> PreTrainedModel:
        if self.dtype == torch.float32:
            return self.policy
        return copy.deepcopy(self.policy).to(self.dtype)

    def encode_prompt(self, user_text: str) -> list[int]:
        return self.formatter.encode(user_text)

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[Rollout]:
        """Sample ``params.n`` completions for each user-message prompt, in prompt order."""
        encoded = [self.encode_prompt(p) for p in prompts]
        completions = self.backend.generate(encoded, params)
        policy_temperature = params.temperature if params.temperature > 0 else 1.0
        return [
            Rollout(
                prompt_index=k // params.n,
                prompt_text=prompts[k // params.n],
                prompt_ids=encoded[k // params.n],
                completion_ids=c.token_ids,
                logprobs=c.logprobs,
                text=c.text,
                finish_reason=c.finish_reason,
                temperature=policy_temperature,
            )
            for k, c in enumerate(completions)
        ]
