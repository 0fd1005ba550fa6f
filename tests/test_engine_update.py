"""The update on a tiny random-weight stand-in model: the ratio's denominator, and what the
options (KL to a frozen reference, LoRA, mini-batches) change and must leave alone."""

import random

import pytest
import torch

import azr.engine.update as update_module
from transformers import LlamaForCausalLM

from _tiny_models import VOCAB, forward_logprobs, tiny_llama, tiny_llama_config
from azr.engine import EngineConfig, LoraSettings, SamplingParams, TrainSample
from azr.engine.logprobs import decoder_head_matches_forward
from azr.engine.lora import add_lora
from azr.engine.transformers_backend import TransformersBackend
from azr.engine.update import PolicyUpdater

CPU = torch.device("cpu")


def samples_for(model, count: int = 8) -> list[TrainSample]:
    """Random prompts and completions, old log-probs from a plain forward of ``model``."""
    rng = random.Random(0)
    out = []
    for i in range(count):
        prompt = [rng.randrange(3, VOCAB) for _ in range(rng.randrange(2, 6))]
        completion = [rng.randrange(3, VOCAB) for _ in range(rng.randrange(1, 7))]
        old = forward_logprobs(model, prompt, completion)
        out.append(TrainSample(prompt, completion, old, reward=float(i % 3 == 0), group=f"g{i % 2}"))
    return out


class RatioSpy:
    """Wraps the real loss and records each call's log-ratio (new - old), per token."""

    def __init__(self, loss) -> None:
        self.loss = loss
        self.log_ratios: list[torch.Tensor] = []

    def __call__(self, logprobs, old_logprobs, *args, **kwargs):
        self.log_ratios.append((logprobs - old_logprobs).detach())
        return self.loss(logprobs, old_logprobs, *args, **kwargs)


def shifted(samples: list[TrainSample], offset: float) -> list[TrainSample]:
    """The same samples with sampler log-probs off by +-offset, alternating per token."""
    return [
        TrainSample(s.prompt_ids, s.completion_ids, [lp + offset * (-1) ** k for k, lp in enumerate(s.old_logprobs)],
                    s.reward, s.group)
        for s in samples
    ]


def test_first_ratio_is_exactly_one_even_when_the_sampler_logprobs_are_off(monkeypatch):
    model = tiny_llama()
    # As a bf16 sampler on other kernels would be, only further off.
    samples = shifted(samples_for(model), 0.5)
    spy = RatioSpy(update_module.clipped_policy_loss)
    monkeypatch.setattr(update_module, "clipped_policy_loss", spy)
    config = EngineConfig(lr=1e-2, ppo_epochs=1, micro_batch_size=3)
    stats = PolicyUpdater(model, config, CPU, torch.float32, 0).update(samples)
    assert len(spy.log_ratios) == 3  # one mini-batch of 8 in micro-batches of 3
    assert all(torch.equal(r, torch.zeros_like(r)) for r in spy.log_ratios)
    assert stats.clip_fraction == 0.0
    assert stats.sampler_logprob_gap == pytest.approx(0.5, abs=1e-4)
    assert stats.sampler_logprob_gap_max == pytest.approx(0.5, abs=1e-4)


class ScaledLlama(LlamaForCausalLM):
    """A stand-in for models whose forward changes the logits after the head (Cohere, Granite)."""

    def forward(self, *args, **kwargs):
        out = super().forward(*args, **kwargs)
        out.logits = out.logits * 4.0
        return out


def test_a_model_that_scales_its_logits_is_scored_through_its_forward():
    model = ScaledLlama(tiny_llama_config())
    samples = samples_for(model)  # old log-probs from the scaled forward: the model's own distribution
    updater = PolicyUpdater(model, EngineConfig(lr=1e-2, micro_batch_size=3), CPU, torch.float32, 0)
    assert not updater.chunked
    stats = updater.update(samples)
    assert stats.sampler_logprob_gap_max < 1e-5  # head(decoder(x)) alone would be off by far more
    assert PolicyUpdater(tiny_llama(), EngineConfig(), CPU, torch.float32, 0).chunked


def test_a_logit_transform_in_the_config_is_enough_to_leave_the_chunked_path():
    # Soft-capping is near the identity on a random model's small logits, so the numeric check alone could miss it.
    assert not decoder_head_matches_forward(tiny_llama(final_logit_softcapping=30.0))
    assert decoder_head_matches_forward(tiny_llama())


class StubTokenizer:
    """Stands in for a tokenizer where only ids matter: the sampler needs pad, eos and decode."""

    pad_token_id = 0
    eos_token_id = 2

    def decode(self, ids, skip_special_tokens=True):
        return " ".join(map(str, ids))


def test_update_scores_the_samplers_tokens_as_the_sampler_did_and_kl_starts_at_zero():
    model = tiny_llama()
    backend = TransformersBackend(model, StubTokenizer(), batch_size=3)
    prompts = [[5, 6, 7], [8, 9, 10, 11, 12], [13, 14], [15, 16, 17, 18]]
    params = SamplingParams(temperature=0.7, max_new_tokens=6, n=2, seed=3)
    completions = backend.generate(prompts, params)
    samples = [
        TrainSample(prompts[k // 2], c.token_ids, c.logprobs, reward=float(k % 3 == 0), group=f"g{k % 2}", temperature=0.7)
        for k, c in enumerate(completions)
    ]
    updater = PolicyUpdater(model, EngineConfig(lr=1e-2, kl_coef=0.5, micro_batch_size=3), CPU, torch.float32, 0)
    first = updater.update(samples)
    # The sampler (KV cache, left padding) and the update (right padding, one pass) agree.
    assert first.sampler_logprob_gap_max < 1e-5
    assert first.kl == pytest.approx(0.0, abs=1e-6)
    assert first.clip_fraction == 0.0
    assert first.tokens == sum(len(s.completion_ids) for s in samples)
    second = updater.update(samples)
    assert second.kl > 1e-6  # the policy moved away from the frozen reference
    assert second.sampler_logprob_gap > 1e-4  # and from the policy that sampled
    assert updater.reference is not None
    for frozen in updater.reference.parameters():
        assert not frozen.requires_grad


def test_mini_batches_make_several_optimizer_steps_per_update():
    model = tiny_llama()
    config = EngineConfig(lr=1e-3, mini_batch_size=3, ppo_epochs=2, micro_batch_size=2)
    stats = PolicyUpdater(model, config, CPU, torch.float32, 0).update(samples_for(model))
    assert stats.optimizer_steps == 2 * 3  # ceil(8 / 3) mini-batches, twice
    assert stats.tokens == 2 * sum(len(s.completion_ids) for s in samples_for(model))


def test_lora_trains_only_the_adapter_and_uses_the_base_as_reference():
    model = add_lora(tiny_llama(), LoraSettings(r=4, alpha=8))
    base_before = {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" not in n}
    config = EngineConfig(lr=1e-2, kl_coef=0.5, lora=LoraSettings(r=4, alpha=8), micro_batch_size=4)
    updater = PolicyUpdater(model, config, CPU, torch.float32, 0)
    assert updater.reference is None
    assert all("lora_" in n for n, p in model.named_parameters() if p.requires_grad)
    samples = samples_for(model)
    updater.update(samples)
    stats = updater.update(samples)
    assert stats.kl > 1e-8
    for name, param in model.named_parameters():
        if name in base_before:
            assert torch.equal(param, base_before[name]), name


def test_an_update_of_only_empty_completions_changes_nothing_and_says_so():
    model = tiny_llama()
    before = [p.detach().clone() for p in model.parameters()]
    empty = [TrainSample([5, 6], [], [], reward=1.0, group="g0"), TrainSample([7], [], [], reward=0.0, group="g0")]
    stats = PolicyUpdater(model, EngineConfig(lr=1e-3), CPU, torch.float32, 0).update(empty)
    assert (stats.tokens, stats.optimizer_steps) == (0, 0)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
