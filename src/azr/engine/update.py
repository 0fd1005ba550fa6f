"""One policy update from rewarded rollouts: TRR++ advantages, clipped policy gradient, AdamW.

The update reads as the algorithm: standardise rewards per (task type, role), give each
completion token its sequence's advantage, score every token once with the training model
as it stands (the ratio's denominator), then for each epoch and each mini-batch accumulate
the token-mean loss over micro-batches, clip the gradient norm and step.

Why score again rather than use the sampler's log-probs: on a GPU the sampler is a bf16
copy on other kernels, so its log-probs differ from the training forward's by up to a
few tenths for some tokens, and the clip would cut those tokens before the policy moved.
The sampler's numbers are kept only to report that gap.

With trainer ranks (a :class:`~azr.cluster.ranks.RankGroup`) every rank holds the whole
model and all the samples: rank 0 draws the mini-batch order, each rank runs a disjoint
share of every mini-batch's micro-batches with the loss still divided by the whole
mini-batch's token count, and the gradients are summed over the ranks before clipping and
the step, so every rank takes the same step a single process would. Without a group the
code path is exactly the one-process one.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Sequence

import torch
from transformers import PreTrainedModel

from azr.engine.advantages import task_relative_advantages
from azr.engine.config import EngineConfig
from azr.engine.hardware import autocast, peak_memory_bytes, reset_peak_memory
from azr.engine.logprobs import PackedBatch, completion_logprobs, decoder_head_matches_forward
from azr.engine.loss import clipped_policy_loss
from azr.engine.types import TrainSample, UpdateStats

if TYPE_CHECKING:
    from azr.cluster.ranks import RankGroup

log = logging.getLogger(__name__)


@dataclass
class _Scored:
    """A sample with its advantage and, per completion token, the log-probs the update holds fixed."""

    index: int
    sample: TrainSample
    advantage: float
    old_logprobs: torch.Tensor | None = None
    ref_logprobs: torch.Tensor | None = None

    @property
    def length(self) -> int:
        return len(self.sample.prompt_ids) + len(self.sample.completion_ids)


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
        self,
        policy: PreTrainedModel,
        config: EngineConfig,
        device: torch.device,
        dtype: torch.dtype,
        pad_id: int,
        group: RankGroup | None = None,
    ) -> None:
        self.policy = policy
        self.group = group
        self.config = config
        self.device = device
        self.dtype = dtype
        self.pad_id = pad_id
        self.parameters = [p for p in policy.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.parameters, lr=config.lr, weight_decay=config.weight_decay)
        self.reference = self._frozen_reference() if config.kl_coef > 0 and config.lora is None else None
        self.chunked = decoder_head_matches_forward(policy)
        if not self.chunked:
            log.info("the model changes its logits after the output head; updates score through model.forward")

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
        scored = [_Scored(i, s, a) for i, (s, a) in enumerate(zip(samples, advantages)) if s.completion_ids]
        gap_mean, gap_max = self._score_fixed_terms(scored)
        totals = _Totals()
        self.policy.train()
        # Every completion may be empty (each rollout stopped at once): then no step is taken.
        mini_batch_size = self.config.mini_batch_size or max(len(scored), 1)
        for _epoch in range(self.config.ppo_epochs):
            order = self._order(len(scored))
            for start in range(0, len(order), mini_batch_size):
                self._optimizer_step([scored[i] for i in order[start : start + mini_batch_size]], totals)
        if self.group is not None:
            self._sum_totals_over_ranks(totals)
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
            sampler_logprob_gap=gap_mean,
            sampler_logprob_gap_max=gap_max,
        )

    @torch.no_grad()
    def _score_fixed_terms(self, scored: list[_Scored]) -> tuple[float, float]:
        """Set each sample's old (and reference) log-probs; return the sampler's gap (mean, max).

        The old log-probs come from the policy in eval mode (the policy the sampler draws
        from, without dropout), in the same micro-batches, autocast and temperature as the
        loss's forward; with one mini-batch the first ratio is then exactly 1. The frozen
        reference does not move during the update, so it is scored here once too.

        With ranks each rank scores its share of the micro-batches and the results are
        gathered: a scoring forward costs about a third of the update, while what is
        gathered is a few floats per token.
        """
        was_training = self.policy.training
        self.policy.eval()
        gaps = []
        try:
            for micro in self._share(list(self._micro_batches(scored))):
                batch = self._pack(micro)
                lengths = [len(item.sample.completion_ids) for item in micro]
                with autocast(self.device, self.dtype):
                    old = self._logprobs(self.policy, batch)[0]
                for item, item_old in zip(micro, old.split(lengths)):
                    item.old_logprobs = item_old
                if self.config.kl_coef > 0:
                    for item, item_ref in zip(micro, self._ref_logprobs(batch).split(lengths)):
                        item.ref_logprobs = item_ref
                sampler = torch.tensor([lp for item in micro for lp in item.sample.old_logprobs], device=self.device)
                gaps.append((sampler - old).abs())
        finally:
            self.policy.train(was_training)
        if self.group is not None:
            gaps = self._gather_scores(scored, gaps)
        if not gaps:
            return 0.0, 0.0
        gap = torch.cat(gaps)
        return gap.mean().item(), gap.max().item()

    def _pack(self, micro: list[_Scored]) -> PackedBatch:
        return PackedBatch.build(
            [item.sample.prompt_ids for item in micro],
            [item.sample.completion_ids for item in micro],
            [item.sample.temperature for item in micro],
            self.pad_id,
            self.device,
        )

    def _micro_batches(self, mini_batch: list[_Scored]) -> Iterator[list[_Scored]]:
        """Similar lengths together, ties by sample index: the same samples always make the
        same micro-batches, so scoring and loss see identical padded inputs."""
        by_length = sorted(mini_batch, key=lambda item: (item.length, item.index))
        size = self.config.micro_batch_size
        for start in range(0, len(by_length), size):
            yield by_length[start : start + size]

    def _optimizer_step(self, mini_batch: list[_Scored], totals: _Totals) -> None:
        mini_batch_tokens = sum(len(item.sample.completion_ids) for item in mini_batch)
        self.optimizer.zero_grad(set_to_none=True)
        for micro in self._share(list(self._micro_batches(mini_batch))):
            batch = self._pack(micro)
            old_logprobs = torch.cat([item.old_logprobs for item in micro])
            token_advantages = torch.tensor([item.advantage for item in micro], device=self.device)[batch.sample_index]
            ref_logprobs = torch.cat([item.ref_logprobs for item in micro]) if self.config.kl_coef > 0 else None
            with autocast(self.device, self.dtype):
                logprobs, entropy = self._logprobs(self.policy, batch)
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
        if self.group is not None:
            self._sum_gradients_over_ranks()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.parameters, self.config.max_grad_norm)
        if self.config.apply_updates:
            self.optimizer.step()
        totals.grad_norms += float(grad_norm)
        totals.steps += 1

    def _logprobs(self, model: PreTrainedModel, batch: PackedBatch) -> tuple[torch.Tensor, torch.Tensor]:
        return completion_logprobs(model, batch, self.config.logprob_chunk_tokens, chunked=self.chunked)

    @torch.no_grad()
    def _ref_logprobs(self, batch: PackedBatch) -> torch.Tensor:
        model, context = self._reference_context()
        with context, autocast(self.device, self.dtype):
            return self._logprobs(model, batch)[0]

    def _order(self, count: int) -> list[int]:
        """The mini-batch order; with ranks rank 0 draws it (from its own generator) and sends it."""
        if self.group is None:
            return torch.randperm(count).tolist()
        return self.group.broadcast_object(torch.randperm(count).tolist() if self.group.is_controller else None)

    def _share(self, micro_batches: list[list[_Scored]]) -> list[list[_Scored]]:
        """This rank's micro-batches: every ``world_size``-th one, so the shares are disjoint and cover all."""
        if self.group is None:
            return micro_batches
        return micro_batches[self.group.rank :: self.group.world_size]

    def broadcast_weights(self) -> None:
        """Make every rank start from rank 0's weights, as DDP does, so no rank can drift from a different load."""
        assert self.group is not None
        with torch.no_grad():
            for parameter in self.policy.parameters():
                self.group.broadcast_tensor(parameter.data)

    def _gather_scores(self, scored: list[_Scored], gaps: list[torch.Tensor]) -> list[torch.Tensor]:
        """Give every rank the old and reference log-probs that the other ranks scored; return all gaps."""
        assert self.group is not None
        mine = {
            item.index: (_to_cpu(item.old_logprobs), None if item.ref_logprobs is None else _to_cpu(item.ref_logprobs))
            for item in scored
            if item.old_logprobs is not None
        }
        by_index = {item.index: item for item in scored}
        all_gaps = []
        for scores, rank_gaps in self.group.all_gather_object((mine, [_to_cpu(gap) for gap in gaps])):
            for index, (old, ref) in scores.items():
                by_index[index].old_logprobs = old.to(self.device)
                by_index[index].ref_logprobs = None if ref is None else ref.to(self.device)
            all_gaps.extend(gap.to(self.device) for gap in rank_gaps)
        return all_gaps

    def _sum_gradients_over_ranks(self) -> None:
        """Sum the gradients over the ranks; a parameter no rank gave a gradient keeps none, as in one process."""
        assert self.group is not None
        present = torch.tensor([float(p.grad is not None) for p in self.parameters], device=self.device)
        self.group.all_reduce_sum(present)
        for parameter, count in zip(self.parameters, present.tolist()):
            if count == 0:
                continue
            if parameter.grad is None:
                parameter.grad = torch.zeros_like(parameter)
            self.group.all_reduce_sum(parameter.grad)

    def _sum_totals_over_ranks(self, totals: _Totals) -> None:
        """Token sums over all ranks' micro-batches; grad norms and steps are already the same on every rank."""
        assert self.group is not None
        sums = torch.tensor(
            [totals.tokens, totals.loss, totals.policy_loss, totals.kl, totals.entropy, totals.clipped],
            dtype=torch.float64,
            device=self.device,
        )
        tokens, totals.loss, totals.policy_loss, totals.kl, totals.entropy, clipped = self.group.all_reduce_sum(sums).tolist()
        totals.tokens, totals.clipped = round(tokens), round(clipped)


def _to_cpu(tensor: torch.Tensor) -> torch.Tensor:
    """A CPU copy of its own: a split is a view, and pickling a view would send its whole base tensor."""
    return tensor.to("cpu", copy=True)
