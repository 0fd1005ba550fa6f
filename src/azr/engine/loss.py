"""The clipped policy-gradient loss, per token, written to read against the formula.

    ratio_t   = exp(log pi(a_t) - log pi_old(a_t))
    L^CLIP_t  = max(-A_t * ratio_t, -A_t * clip(ratio_t, 1 - eps, 1 + eps))
    KL_t      = exp(ref_t - logp_t) - (ref_t - logp_t) - 1        (k3 estimator, >= 0)
    L_t       = L^CLIP_t + beta * KL_t - c_H * H_t

and the loss is the mean of L_t over every completion token of the mini-batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class TokenLoss:
    """Per-token terms; sums, not means, so micro-batches add up to a token mean."""

    loss_sum: torch.Tensor
    policy_loss_sum: float
    kl_sum: float
    entropy_sum: float
    clipped_tokens: int


def clipped_policy_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    entropy: torch.Tensor,
    clip_ratio: float,
    ref_logprobs: torch.Tensor | None = None,
    kl_coef: float = 0.0,
    entropy_coef: float = 0.0,
) -> TokenLoss:
    ratio = torch.exp(logprobs - old_logprobs)
    pg_losses = -advantages * ratio
    pg_losses_clipped = -advantages * torch.clamp(ratio, 1.0 - clip_ratio, 1.0 + clip_ratio)
    policy_loss = torch.max(pg_losses, pg_losses_clipped)
    loss = policy_loss - entropy_coef * entropy
    kl_sum = 0.0
    if ref_logprobs is not None:
        log_ref_over_pi = ref_logprobs - logprobs
        kl = torch.exp(log_ref_over_pi) - log_ref_over_pi - 1.0
        loss = loss + kl_coef * kl
        kl_sum = kl.sum().item()
    return TokenLoss(
        loss_sum=loss.sum(),
        policy_loss_sum=policy_loss.sum().item(),
        kl_sum=kl_sum,
        entropy_sum=entropy.sum().item(),
        clipped_tokens=int(((ratio - 1.0).abs() > clip_ratio).sum().item()),
    )
