"""Log-probs of chosen tokens without ever holding a whole batch's full-vocabulary logits.

A micro-batch of 16 sequences of 512 tokens over SmolLM2's 49k vocabulary is 1.6 GB of
float32 logits, and autograd would keep several copies. Instead the decoder's hidden
states are gathered at the positions that predict completion tokens, and the output head,
log-softmax and entropy run over chunks of those positions under activation
checkpointing: forward and backward each hold one chunk's logits at a time.

That split (decoder, then head) is only the model's distribution when ``model.forward``
does nothing to the logits after the head. Gemma-2 soft-caps them, Cohere and Granite
scale them, and any subclass may; for those ``decoder_head_matches_forward`` says no and
the update scores through ``model.forward`` itself, keeping only completion positions.
"""

from __future__ import annotations

import inspect
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
    return _logprobs_and_entropy(head(hidden), targets, temperatures)


def _logprobs_and_entropy(
    logits: torch.Tensor, targets: torch.Tensor, temperatures: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    logprobs = torch.log_softmax(logits.float() / temperatures[:, None], dim=-1)
    chosen = logprobs.gather(-1, targets[:, None]).squeeze(-1)
    entropy = -(logprobs.exp() * logprobs).sum(-1)
    return chosen, entropy


def completion_logprobs(
    model: PreTrainedModel, batch: PackedBatch, chunk_tokens: int, chunked: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (log pi(token), entropy of pi) for every completion token, each of shape [N].

    ``chunked`` is the memory-saving decoder-then-head path; pass it only where
    ``decoder_head_matches_forward(model)`` holds.
    """
    if not chunked:
        return _forward_logprobs(model, batch)
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


def _forward_logprobs(model: PreTrainedModel, batch: PackedBatch) -> tuple[torch.Tensor, torch.Tensor]:
    """The same quantities through ``model.forward``: whatever it does to the logits counts.

    With ``logits_to_keep`` only the positions from the earliest completion-predicting one
    onward get logits, so the prompts cost no head compute or memory.
    """
    kwargs = {}
    first = int(batch.predicts.any(dim=0).nonzero()[0])
    if _accepts_logits_to_keep(model):
        kwargs["logits_to_keep"] = batch.input_ids.shape[1] - first
    else:
        first = 0
    logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask, **kwargs).logits
    logits = logits[batch.predicts[:, first:]]
    return _logprobs_and_entropy(logits, batch.targets, batch.temperatures)


def _accepts_logits_to_keep(model: PreTrainedModel) -> bool:
    # A peft wrapper forwards **kwargs; the model underneath decides.
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "logits_to_keep" in inspect.signature(base.forward).parameters


# Config fields through which transformers models change the logits after the head.
_LOGIT_TRANSFORMS = ("final_logit_softcapping", "logit_scale", "logits_scaling")
_CHECK_TOKENS = 16


@torch.no_grad()
def decoder_head_matches_forward(model: PreTrainedModel) -> bool:
    """Whether ``head(decoder(x))`` is ``model(x).logits``, so the chunked path is exact.

    Two tests, both needed: a known logit transform in the config (soft-capping is close
    to the identity on small logits, so a short random input may not show it), and a
    float32 comparison on a short input, which catches any forward that is not the plain
    decoder-then-head (a subclass, a remote-code model).
    """
    config = model.config.get_text_config()
    if any(getattr(config, name, None) not in (None, 1, 1.0) for name in _LOGIT_TRANSFORMS):
        return False
    head = model.get_output_embeddings()
    if head is None:
        return False
    vocab = model.get_input_embeddings().num_embeddings
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(vocab, (1, _CHECK_TOKENS), generator=generator).to(next(model.parameters()).device)
    was_training = model.training
    model.eval()
    try:
        full = model(input_ids=ids).logits.float()
        split = head(model.get_decoder()(input_ids=ids).last_hidden_state).float()
    finally:
        model.train(was_training)
    return full.shape == split.shape and torch.allclose(full, split, rtol=1e-5, atol=1e-6)
