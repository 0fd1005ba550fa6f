"""Log-probs of chosen tokens without ever holding a whole batch's full-vocabulary logits.

A micro-batch of 16 sequences of 512 tokens over SmolLM2's 49k vocabulary is 1.6 GB of
float32 logits, and autograd would keep several copies. Instead the decoder's hidden
states are gathered at the positions that predict completion tokens, and the output head,
log-softmax and entropy run over chunks of those positions under activation
checkpointing: forward and backward each hold one chunk's logits at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.checkpoint import checkpoint
from transformers import PreTrainedModel


@dataclass
class PackedBatch:
    """Right-padded sequences plus, flattened over all completion tokens, what to score."""

    input_ids: torch.Tensor  # [B, L]
    attention_mask: torch.Tensor  # [B, L]
    predicts: torch.Tensor  # [B, L] bool: position t predicts a completion token at t+1
    targets: torch.Tensor  # [N] completion token ids, sample by sample
    temperatures: torch.Tensor  # [N] sampling temperature of each token's sequence
    sample_index: torch.Tensor  # [N] which sequence of the batch each token belongs to

    @classmethod
    def build(
        cls,
        prompts: list[list[int]],
        completions: list[list[int]],
        temperatures: list[float],
        pad_id: int,
        device: torch.device,
    ) -> "PackedBatch":
        width = max(len(p) + len(c) for p, c in zip(prompts, completions))
        ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        predicts = torch.zeros((len(prompts), width), dtype=torch.bool)
        for row, (prompt, completion) in enumerate(zip(prompts, completions)):
            length = len(prompt) + len(completion)
            ids[row, :length] = torch.tensor(prompt + completion, dtype=torch.long)
            mask[row, :length] = 1
            predicts[row, len(prompt) - 1 : length - 1] = True
        lengths = [len(c) for c in completions]
        return cls(
            input_ids=ids.to(device),
            attention_mask=mask.to(device),
            predicts=predicts.to(device),
            targets=torch.tensor([t for c in completions for t in c], dtype=torch.long, device=device),
            temperatures=torch.tensor([t for t, n in zip(temperatures, lengths) for _ in range(n)], device=device),
            sample_index=torch.repeat_interleave(torch.arange(len(lengths)), torch.tensor(lengths)).to(device),
        )


def _score_chunk(
    head: torch.nn.Module, hidden: torch.Tensor, targets: torch.Tensor, temperatures: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    logits = head(hidden).float() / temperatures[:, None]
    logprobs = torch.log_softmax(logits, dim=-1)
    chosen = logprobs.gather(-1, targets[:, None]).squeeze(-1)
    entropy = -(logprobs.exp() * logprobs).sum(-1)
    return chosen, entropy


def completion_logprobs(
    model: PreTrainedModel, batch: PackedBatch, chunk_tokens: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (log pi(token), entropy of pi) for every completion token, each of shape [N]."""
    hidden = model.get_decoder()(input_ids=batch.input_ids, attention_mask=batch.attention_mask).last_hidden_state
    hidden = hidden[batch.predicts]
    head = model.get_output_embeddings()
    needs_grad = torch.is_grad_enabled()
    chosen, entropy = [], []
    for start in range(0, hidden.shape[0], chunk_tokens):
        piece = slice(start, start + chunk_tokens)
        args = (head, hidden[piece], batch.targets[piece], batch.temperatures[piece])
        if needs_grad:
            c, e = checkpoint(_score_chunk, *args, use_reentrant=False)
        else:
            c, e = _score_chunk(*args)
        chosen.append(c)
        entropy.append(e)
    return torch.cat(chosen), torch.cat(entropy)
