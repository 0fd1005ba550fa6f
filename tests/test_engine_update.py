"""The update's options (KL to a frozen reference, LoRA, mini-batches) on a tiny
random-weight stand-in model: what they change and what they must leave alone."""

import random

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from azr.engine import EngineConfig, LoraSettings, TrainSample
from azr.engine.lora import add_lora
from azr.engine.logprobs import PackedBatch, completion_logprobs
from azr.engine.update import PolicyUpdater

CPU = torch.device("cpu")


def stub_model() -> LlamaForCausalLM:
    """Random weights, for mechanics only."""
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, tie_word_embeddings=True,
    )
    return LlamaForCausalLM(config)


def samples_for(model: LlamaForCausalLM, count: int = 8) -> list[TrainSample]:
    rng = random.Random(0)
    out = []
    for i in range(count):
        prompt = [rng.randrange(1, 64) for _ in range(rng.randrange(2, 6))]
        completion = [rng.randrange(1, 64) for _ in range(rng.randrange(1, 7))]
        batch = PackedBatch.build([prompt], [completion], [1.0], 0, CPU)
        with torch.no_grad():
            old = completion_logprobs(model, batch, 16)[0].tolist()
        out.append(TrainSample(prompt, completion, old, reward=float(i % 3 == 0), group=f"g{i % 2}"))
    return out


def test_first_update_is_on_policy_and_kl_starts_at_zero():
    model = stub_model()
    updater = PolicyUpdater(model, EngineConfig(lr=1e-2, kl_coef=0.5, micro_batch_size=3), CPU, torch.float32, 0)
    samples = samples_for(model)
    first = updater.update(samples)
    assert first.kl == pytest.approx(0.0, abs=1e-6)
    assert first.clip_fraction == 0.0  # ratio exactly one before any step
    assert first.tokens == sum(len(s.completion_ids) for s in samples)
    second = updater.update(samples)
    assert second.kl > 1e-6  # the policy moved away from the frozen reference
    assert updater.reference is not None
    for frozen in updater.reference.parameters():
        assert not frozen.requires_grad


def test_mini_batches_make_several_optimizer_steps_per_update():
    model = stub_model()
    config = EngineConfig(lr=1e-3, mini_batch_size=3, ppo_epochs=2, micro_batch_size=2)
    stats = PolicyUpdater(model, config, CPU, torch.float32, 0).update(samples_for(model))
    assert stats.optimizer_steps == 2 * 3  # ceil(8 / 3) mini-batches, twice
    assert stats.tokens == 2 * sum(len(s.completion_ids) for s in samples_for(model))


def test_lora_trains_only_the_adapter_and_uses_the_base_as_reference():
    model = add_lora(stub_model(), LoraSettings(r=4, alpha=8))
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
