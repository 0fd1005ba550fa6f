"""Our own batched sampler over a transformers model: KV cache, left padding, per-token log-probs.

Why not ``model.generate``: we need the log-prob of every sampled token under the sampling
policy, stop strings that cut ids and text alike, and finished rows dropped from the
batch so a few long answers do not keep paying for the short ones.
"""

from __future__ import annotations

import inspect
from typing import Sequence

import torch
from transformers import DynamicCache, PreTrainedModel, PreTrainedTokenizerBase

from azr.engine.backend import Completion
from azr.engine.sampling import sample_tokens
from azr.engine.stops import StopStrings, finish_completion
from azr.engine.types import SamplingParams

# Drop finished rows from the batch (copying the KV cache) once this share of it is done.
_COMPACT_WHEN_DONE = 0.25


class TransformersBackend:
    """Rollouts on the model in hand (CPU or GPU), prompts grouped by length into batches."""

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, batch_size: int) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        eos = model.generation_config.eos_token_id if model.generation_config is not None else None
        eos_ids = eos if isinstance(eos, list) else [eos]
        self.stop_token_ids = {t for t in [*eos_ids, tokenizer.eos_token_id] if t is not None}
        self.pad_id = tokenizer.pad_token_id
        self._cache_kwarg = _cache_kwarg(model)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def suspend(self) -> None:
        """Nothing to free: the rollout model is the policy or a small copy of it."""

    @torch.no_grad()
    def sync_weights(self, policy: torch.nn.Module) -> None:
        if policy is self.model:
            return
        for mine, theirs in zip(self.model.parameters(), policy.parameters(), strict=True):
            mine.copy_(theirs)

    def generate(self, prompts: Sequence[list[int]], params: SamplingParams) -> list[Completion]:
        requests = [list(p) for p in prompts for _ in range(params.n)]
        # Similar lengths share a batch, so left padding wastes little.
        order = sorted(range(len(requests)), key=lambda k: len(requests[k]))
        generator = None
        if params.seed is not None:
            generator = torch.Generator(device=self.device).manual_seed(params.seed)
        stops = StopStrings(self.tokenizer, params.stop)
        stop_token_ids = set() if params.ignore_eos else self.stop_token_ids
        results: list[Completion | None] = [None] * len(requests)
        was_training = self.model.training
        self.model.eval()
        try:
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                completions = self._generate_batch(
                    [requests[k] for k in batch], params, generator, stops, stop_token_ids
                )
                for k, completion in zip(batch, completions):
                    results[k] = completion
        finally:
            self.model.train(was_training)
        return [r for r in results if r is not None]

    def _left_padded(self, prompts: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, prompt in enumerate(prompts):
            ids[row, width - len(prompt) :] = torch.tensor(prompt, dtype=torch.long)
            mask[row, width - len(prompt) :] = 1
        return ids.to(self.device), mask.to(self.device)

    @torch.inference_mode()
    def _generate_batch(
        self,
        prompts: list[list[int]],
        params: SamplingParams,
        generator: torch.Generator | None,
        stops: StopStrings,
        stop_token_ids: set[int],
    ) -> list[Completion]:
        ids, mask = self._left_padded(prompts)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache(config=self.model.config)
        logits = self.model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            **{self._cache_kwarg: cache},
            use_cache=True,
            logits_to_keep=1,
        ).logits[:, -1]
        next_position = positions[:, -1:] + 1

        tokens: list[list[int]] = [[] for _ in prompts]
        logprobs: list[list[float]] = [[] for _ in prompts]
        finish = ["length"] * len(prompts)
        rows = list(range(len(prompts)))  # batch row -> request index
        alive = [True] * len(rows)
        for step in range(params.max_new_tokens):
            chosen, chosen_logprobs = sample_tokens(logits, params.temperature, params.top_p, generator)
            for row, (token, logprob) in enumerate(zip(chosen.tolist(), chosen_logprobs.tolist())):
                if not alive[row]:
                    continue
                request = rows[row]
                tokens[request].append(token)
                logprobs[request].append(logprob)
                if token in stop_token_ids or (stops and stops.seen_in_tail(tokens[request])):
                    finish[request] = "stop"
                    alive[row] = False
            if not any(alive) or step == params.max_new_tokens - 1:
                break
            if alive.count(False) >= _COMPACT_WHEN_DONE * len(alive):
                keep = [row for row, a in enumerate(alive) if a]
                index = torch.tensor(keep, device=self.device)
                cache.batch_select_indices(index)
                mask, chosen, next_position = mask[index], chosen[index], next_position[index]
                rows = [rows[row] for row in keep]
                alive = [True] * len(rows)
            mask = torch.cat([mask, mask.new_ones((len(rows), 1))], dim=1)
            logits = self.model(
                input_ids=chosen[:, None],
                attention_mask=mask,
                position_ids=next_position,
                **{self._cache_kwarg: cache},
                use_cache=True,
            ).logits[:, -1]
            next_position = next_position + 1
        return [finish_completion(self.tokenizer, stops, t, lp, f) for t, lp, f in zip(tokens, logprobs, finish)]


def _cache_kwarg(model: PreTrainedModel) -> str:
    """transformers 5.25 renamed ``past_key_values`` to ``cache`` and warns on the old name."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"
