"""The engine: one object that loads the policy, samples rollouts, updates and checkpoints it.

Training always keeps float32 weights (an lr of 1e-6 vanishes in bf16 rounding); with
bf16 the forward and backward passes run under autocast and rollouts come from a bf16
copy of the policy that is refreshed after every update.

With trainer ranks every rank builds the same engine with the same
:class:`~azr.cluster.ranks.RankGroup`; rank 0 (the controller) calls ``update``, which first
sends the samples to the followers waiting in :func:`azr.cluster.ranks.follow`.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import torch
from transformers import PreTrainedModel

from azr.engine.backend import RolloutBackend
from azr.engine.checkpoint import load_trainer_state, restore_rng_state, save_trainer_state
from azr.engine.config import EngineConfig
from azr.engine.errors import PromptTooLongError, RankError, SampleError
from azr.engine.hardware import resolve_device, resolve_dtype
from azr.engine.lora import add_lora, load_lora_weights
from azr.engine.models import LoadedModel, load_directory, load_model
from azr.engine.prompting import PromptFormatter
from azr.engine.transformers_backend import TransformersBackend
from azr.engine.types import Rollout, SamplingParams, TrainSample, UpdateStats
from azr.engine.update import PolicyUpdater
from azr.hf_progress import no_progress_bars

if TYPE_CHECKING:
    from azr.cluster.ranks import RankGroup

log = logging.getLogger(__name__)


class Engine:
    """The policy model and everything done to it."""

    def __init__(self, loaded: LoadedModel, config: EngineConfig, group: RankGroup | None = None) -> None:
        if group is not None and config.rollout == "vllm":
            raise RankError(
                f"engine.rollout=vllm runs in one process and cannot be used with {group.world_size} trainer ranks; "
                "use engine.rollout=transformers with several ranks, or launch one process for vLLM rollouts"
            )
        self.config = config
        self.group = group
        self.device = resolve_device(config.device)
        self.dtype = resolve_dtype(config.dtype, self.device)
        self.source = loaded.source
        torch.manual_seed(config.seed)
        self.tokenizer = loaded.tokenizer
        self.formatter = PromptFormatter(self.tokenizer, config.chat_template)
        model = loaded.model
        if config.gradient_checkpointing:
            model.gradient_checkpointing_enable()
        if config.lora is not None:
            model = add_lora(model, config.lora)
        self.policy: PreTrainedModel = model.to(self.device)
        self.backend = self._make_backend()
        self.updater = PolicyUpdater(self.policy, config, self.device, self.dtype, self.tokenizer.pad_token_id, group)
        if group is not None:
            self.updater.broadcast_weights()
        self.updates = 0
        log.info("engine ready: %s on %s in %s", self.source, self.device, self.dtype)

    @classmethod
    def from_config(cls, config: EngineConfig, group: RankGroup | None = None) -> "Engine":
        return cls(load_model(config.model, config.cache_dir), config, group)

    @classmethod
    def from_checkpoint(cls, directory: str | Path, config: EngineConfig, group: RankGroup | None = None) -> "Engine":
        """Resume from ``save_checkpoint``'s directory: weights, optimizer, RNG, update count.

        Without LoRA the checkpoint's weights are the model and ``config.model`` is not read;
        with LoRA the base comes from ``config.model`` and the adapter from the checkpoint.
        With ranks every rank calls it on the same directory, whatever number of ranks wrote it.
        """
        directory = Path(directory)
        state = load_trainer_state(directory)
        if config.lora is not None:
            engine = cls.from_config(config, group)
            load_lora_weights(engine.policy, directory)
        else:
            engine = cls(load_directory(directory), config, group)
        engine._restore(state)
        return engine

    def _make_backend(self) -> RolloutBackend:
        if self.config.rollout == "vllm":
            from azr.engine.vllm_backend import VLLMBackend

            return VLLMBackend(self.policy, self.tokenizer, self.config.vllm, self.device, self.dtype,
                               self.config.seed, self.config.cache_dir)
        return TransformersBackend(
            self._rollout_model(), self.tokenizer, self.rollout_batch_size
        )

    @property
    def rollout_batch_size(self) -> int:
        """Sequences sampled together by a transformers sampler (``engine.rollout_batch_size``, or per device)."""
        return self.config.rollout_batch_size or (256 if self.device.type == "cuda" else 16)

    @contextlib.contextmanager
    def rollouts_through(self, backend: RolloutBackend) -> Iterator[None]:
        """Sample through ``backend`` (rollout workers elsewhere) until the block ends, then through our own again."""
        own, self.backend = self.backend, backend
        try:
            yield
        finally:
            self.backend = own
            own.sync_weights(self.policy)

    def _rollout_model(self) -> PreTrainedModel:
        if self.dtype == torch.float32:
            return self.policy
        return copy.deepcopy(self.policy).to(self.dtype)

    def encode_prompt(self, user_text: str) -> list[int]:
        return self.formatter.encode(user_text)

    @property
    def context_tokens(self) -> int:
        """Positions the model was trained on; past them its attention is out of distribution."""
        return int(getattr(self.policy.config.get_text_config(), "max_position_embeddings", 0)) or 2**31

    @property
    def prompt_limit(self) -> int:
        """The longest prompt sampled: ``max_prompt_tokens``, and always one token short of the context."""
        limit = self.context_tokens - 1
        if self.config.max_prompt_tokens is not None:
            limit = min(limit, self.config.max_prompt_tokens)
        return limit

    def prompt_fits(self, user_text: str) -> bool:
        return len(self.encode_prompt(user_text)) <= self.prompt_limit

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[Rollout]:
        """Sample ``params.n`` completions for each user-message prompt, in prompt order.

        A prompt past ``prompt_limit`` is refused rather than truncated (a cut prompt is a
        different task); the token budget shrinks so that no sequence runs past the context.
        """
        encoded = [self.encode_prompt(p) for p in prompts]
        too_long = [k for k, ids in enumerate(encoded) if len(ids) > self.prompt_limit]
        if too_long:
            k = too_long[0]
            raise PromptTooLongError(
                f"{len(too_long)} of {len(prompts)} prompts are longer than {self.prompt_limit} tokens "
                f"(prompt {k} has {len(encoded[k])}); raise engine.max_prompt_tokens, shorten the prompt, "
                "or filter with Engine.prompt_fits first"
            )
        room = self.context_tokens - max((len(ids) for ids in encoded), default=0)
        if params.max_new_tokens > room:
            log.debug("max_new_tokens %d cut to %d to stay in the context", params.max_new_tokens, room)
            params = dataclasses.replace(params, max_new_tokens=room)
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

    def update(self, samples: Sequence[TrainSample]) -> UpdateStats:
        """One policy update; advantages are standardised per ``TrainSample.group`` inside."""
        for index, sample in enumerate(samples):
            if len(sample.old_logprobs) != len(sample.completion_ids):
                raise SampleError(
                    f"sample {index} has {len(sample.completion_ids)} completion tokens but "
                    f"{len(sample.old_logprobs)} log-probs; build samples with Rollout.to_sample"
                )
            if not sample.prompt_ids:
                raise SampleError(f"sample {index} has an empty prompt; the first completion token needs a context")
        if self.group is not None and self.group.is_controller:
            self.group.send_update(samples)
        self.backend.suspend()
        stats = self.updater.update(samples)
        self.updates += 1
        started = time.perf_counter()
        self.backend.sync_weights(self.policy)
        stats.weight_sync_seconds = time.perf_counter() - started
        return stats

    def save_checkpoint(self, directory: str | Path) -> Path:
        """Write the checkpoint's files into ``directory``.

        This alone is not atomic: the trainer writes into :func:`azr.engine.checkpoint.atomic_checkpoint`'s
        staging directory, so a crash or a full disk never leaves a half-written checkpoint in place.
        With ranks only rank 0 writes: every rank holds the same weights and optimizer state.
        """
        if self.group is not None and not self.group.is_controller:
            raise RankError(f"rank {self.group.rank} asked to save a checkpoint; only rank 0, the controller, writes them")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with no_progress_bars():
            self.policy.save_pretrained(directory)
            self.tokenizer.save_pretrained(directory)
        save_trainer_state(directory, self.updater.optimizer, self.updates, self.config.model_dump())
        return directory

    def load_checkpoint(self, directory: str | Path) -> None:
        directory = Path(directory)
        state = load_trainer_state(directory)
        if self.config.lora is not None:
            load_lora_weights(self.policy, directory)
        else:
            self.policy.load_state_dict(load_directory(directory).model.state_dict())
        if self.group is not None:
            self.updater.broadcast_weights()
        self._restore(state)

    def _restore(self, state: dict[str, Any]) -> None:
        self.updater.optimizer.load_state_dict(state["optimizer"])
        restore_rng_state(state["rng"])
        self.updates = state["updates"]
        self.backend.sync_weights(self.policy)
