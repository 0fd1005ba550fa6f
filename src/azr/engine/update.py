"""One policy update from rewarded rollouts: TRR++ advantages, clipped policy gradient, AdamW.

The update reads as the algorithm: standardise rewards per (task type, role), give each
completion token its sequence's advantage, then for each epoch and each mini-batch
accumulate the token-mean loss over micro-batches, clip the gradient norm and step.
"""

from __future__ import annotations

import contextlib
import copy
import time
from dataclasses import dataclass
from typing import Iterator, Sequence

import torch
from transformers import PreTrainedModel

from azr.engine.advantages import task_relative_advantages
from azr.engine.config import EngineConfig
from azr.engine.hardware import autocast, peak_memory_bytes, reset_peak_memory
from azr.engine.logprobs import PackedBatch, completion_logprobs
from azr.engine.loss import clipped_policy_loss
from azr.engine.types import TrainSample, UpdateStats


@dataclass
class _Totals:
    """Sums over every token an update saw, turned into token means at the end."""

    tokens: int = 0
    loss: float = 0.0
    policy_loss: float = 0.0
    kl: float = 0.0
    entropy: float = 0.0
    clipped: int = 0
    grad_norms: float = 0.0
    steps: int = 0


class PolicyUpdater:
    """Owns the optimizer (and the frozen reference, when a KL term is asked for)."""

    def __init__(
        self, policy: PreTrainedModel, config: EngineConfig, device: torch.device, dtype: torch.dtype, pad_id: int
    ) -> None:
        self.policy = policy
        self.config = config
        self.device = device
        self.dtype = dtype
        self.pad_id = pad_id
        self.parameters = [p for p in policy.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.parameters, lr=config.lr, weight_decay=config.weight_decay)
        self.reference = self._frozen_reference() if config.kl_coef > 0 and config.lora is None else None

    def _frozen_reference(self) -> PreTrainedModel:
        reference = copy.deepcopy(self.policy).eval()
        reference.requires_grad_(False)
        return reference

    def _reference_context(self) -> tuple[PreTrainedModel, contextlib.AbstractContextManager]:
        """With LoRA the base model without its adapter is the reference, at no memory cost."""
        if self.reference is not None:
            return self.reference, contextlib.nullcontext()
        return self.policy, self.policy.disable_adapter()

    def update(self, samples: Sequence[TrainSample]) -> UpdateStats:
        started = time.perf_counter()
        reset_peak_memory(self.device)
        advantages = task_relative_advantages([s.reward for s in samples], [s.group for s in samples])
        scored = [(s, a) for s, a in zip(samples, advantages) if s.completion_ids]
        totals = _Totals()
        self.policy.train()
        mini_batch_size = self.config.mini_batch_size or len(scored)
        for _epoch in range(self.config.ppo_epochs):
            order = torch.randperm(len(scored)).tolist()
            for start in range(0, len(order), mini_batch_size):
                self._optimizer_step([scored[i] for i in order[start : start + mini_batch_size]], totals)
        tokens = max(totals.tokens, 1)
        return UpdateStats(
            loss=totals.loss / tokens,
            policy_loss=totals.policy_loss / tokens,
            kl=totals.kl / tokens,
            entropy=totals.entropy / tokens,
            clip_fraction=totals.clipped / tokens,
            grad_norm=totals.grad_norms / max(totals.steps, 1),
            tokens=totals.tokens,
            seconds=time.perf_counter() - started,
            peak_memory_bytes=peak_memory_bytes(self.device),
            advantages=advantages,
            optimizer_steps=totals.steps,
        )

    def _micro_batches(self, mini_batch: list[tuple[TrainSample, float]]) -> Iterator[list[tuple[TrainSample, float]]]:
        by_length = sorted(mini_batch, key=lambda pair: len(pair[0].prompt_ids) + len(pair[0].completion_ids))
        size = self.config.micro_batch_size
        for start in range(0, len(by_length), size):
            yield by_length[start : start + size]

    def _optimizer_step(self, mini_batch: list[tuple[TrainSample, float]], totals: _Totals) -> None:
        mini_batch_tokens = sum(len(s.completion_ids) for s, _ in mini_batch)
        self.optimizer.zero_grad(set_to_none=True)
        for micro in self._micro_batches(mini_batch):
            batch = PackedBatch.build(
                [s.prompt_ids for s, _ in micro],
                [s.completion_ids for s, _ in micro],
                [s.temperature for s, _ in micro],
                self.pad_id,
                self.device,
            )
            old_logprobs = torch.tensor([lp for s, _ in micro for lp in s.old_logprobs], device=self.device)
            token_advantages = torch.tensor([a for _, a in micro], device=self.device)[batch.sample_index]
            ref_logprobs = self._ref_logprobs(batch) if self.config.kl_coef > 0 else None
            with autocast(self.device, self.dtype):
                logprobs, entropy = completion_logprobs(self.policy, batch, self.config.logprob_chunk_tokens)
            terms = clipped_policy_loss(
                logprobs,
                old_logprobs,
                token_advantages,
                entropy,
                self.config.clip_ratio,
                ref_logprobs=ref_logprobs,
                kl_coef=self.config.kl_coef,
                entropy_coef=self.config.entropy_coef,
            )
            (terms.loss_sum / mini_batch_tokens).backward()
            totals.loss += terms.loss_sum.item()
            totals.policy_loss += terms.policy_loss_sum
            totals.kl += terms.kl_sum
            totals.entropy += terms.entropy_sum
            totals.clipped += terms.clipped_tokens
            totals.tokens += len(old_logprobs)
        grad_norm = torch.nn.utils.clip_grad_norm_(self.parameters, self.config.max_grad_norm)
        self.optimizer.step()
        totals.grad_norms += float(grad_norm)
        totals.steps += 1

    @torch.no_grad()
    def _ref_logprobs(self, batch: PackedBatch) -> torch.Tensor:
        model, context = self._reference_context()
        with context, autocast(self.device, self.dtype):
            return completion_logprobs(model, batch, self.config.logprob_chunk_tokens)[0]
