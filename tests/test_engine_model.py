"""The engine on the real default model (SmolLM2-135M-Instruct from its packaged GGUF).

Sized for a 2-core CPU: short completions, few updates. On a GPU the same tests run in
bf16, where the log-prob tolerance is wider.
"""

import pytest
import torch
from transformers import AutoModelForCausalLM

from azr.engine import Engine, EngineConfig, SamplingParams

pytestmark = pytest.mark.model

PROMPTS = ["Name one fruit.", "Write a Python function that adds two numbers."]


def _config(**overrides) -> EngineConfig:
    return EngineConfig(**{"micro_batch_size": 8, "seed": 0, **overrides})


@pytest.fixture(scope="module")
def engine() -> Engine:
    # float32 on every device, so the log-prob check can be tight.
    return Engine.from_config(_config(dtype="float32"))


def test_generation_logprobs_match_a_separate_forward_pass(engine):
    params = SamplingParams(temperature=0.8, top_p=0.9, max_new_tokens=12, n=3, seed=7)
    rollouts = engine.generate(PROMPTS, params)
    assert [r.prompt_index for r in rollouts] == [0, 0, 0, 1, 1, 1]
    for rollout in rollouts:
        assert len(rollout.completion_ids) == len(rollout.logprobs) > 0
        assert rollout.temperature == 0.8
        ids = torch.tensor([rollout.prompt_ids + rollout.completion_ids], device=engine.device)
        with torch.no_grad():
            logits = engine.policy(input_ids=ids).logits[0, len(rollout.prompt_ids) - 1 : -1].float()
        expected = torch.log_softmax(logits / rollout.temperature, -1).gather(
            -1, torch.tensor(rollout.completion_ids, device=engine.device)[:, None]
        )
        diff = (expected.squeeze(-1).cpu() - torch.tensor(rollout.logprobs)).abs().max().item()
        assert diff < 2e-3, f"log-probs differ by {diff}"


def test_stop_strings_truncate_ids_logprobs_and_text(engine):
    params = SamplingParams(temperature=0.0, max_new_tokens=40, stop=("def",))
    rollout = engine.generate([PROMPTS[1]], params)[0]
    assert rollout.finish_reason == "stop"
    assert rollout.text.endswith("def")
    assert len(rollout.completion_ids) == len(rollout.logprobs)
    # one token fewer no longer holds the stop string: nothing after it was kept
    shorter = engine.tokenizer.decode(rollout.completion_ids[:-1], skip_special_tokens=True)
    assert "def" not in shorter


def test_seeded_sampling_repeats(engine):
    params = SamplingParams(temperature=1.0, max_new_tokens=8, n=2, seed=11)
    first = [r.completion_ids for r in engine.generate(PROMPTS, params)]
    second = [r.completion_ids for r in engine.generate(PROMPTS, params)]
    assert first == second


# The untrained model answers this with "yes" about one time in ten (and "No" about half).
QUESTION = "Answer with one word: yes or no. Is the sky blue?"


def _reward(text: str) -> float:
    return 1.0 if text.lstrip().lower().startswith("yes") else 0.0


def _mean_reward(engine: Engine, seed: int) -> float:
    params = SamplingParams(temperature=1.0, max_new_tokens=2, n=64, seed=seed)
    rollouts = engine.generate([QUESTION], params)
    return sum(_reward(r.text) for r in rollouts) / len(rollouts)


def test_updates_raise_the_toy_reward():
    engine = Engine.from_config(_config(lr=3e-5, micro_batch_size=16))
    before = _mean_reward(engine, seed=100)
    for step in range(4):
        rollouts = engine.generate([QUESTION], SamplingParams(temperature=1.0, max_new_tokens=2, n=16, seed=step))
        stats = engine.update([r.to_sample(_reward(r.text), "toy/solve") for r in rollouts])
        assert stats.tokens == sum(len(r.completion_ids) for r in rollouts)
        assert stats.grad_norm > 0 or all(a == 0 for a in stats.advantages)
    after = _mean_reward(engine, seed=200)
    assert after > before + 0.15, f"mean reward {before:.2f} -> {after:.2f}"


def _first_exp_avg(engine: Engine) -> torch.Tensor:
    return next(iter(engine.updater.optimizer.state.values()))["exp_avg"]


def test_checkpoint_reloads_identically_and_resumes_the_optimizer(tmp_path):
    config = _config(lr=1e-5, dtype="float32")
    engine = Engine.from_config(config)
    rollouts = engine.generate(PROMPTS, SamplingParams(temperature=1.0, max_new_tokens=6, n=2, seed=1))
    samples = [r.to_sample(float(i % 2), f"g{i % 3}") for i, r in enumerate(rollouts)]
    engine.update(samples)
    rng_at_save = torch.get_rng_state()
    engine.save_checkpoint(tmp_path / "ckpt")
    plain = AutoModelForCausalLM.from_pretrained(tmp_path / "ckpt")  # no azr code needed to read it
    assert torch.equal(plain.model.layers[0].mlp.up_proj.weight, engine.policy.model.layers[0].mlp.up_proj.weight.cpu())
    del plain
    torch.manual_seed(12345)

    resumed = Engine.from_checkpoint(tmp_path / "ckpt", config)
    assert resumed.updates == 1
    assert torch.equal(torch.get_rng_state(), rng_at_save)
    assert torch.equal(_first_exp_avg(resumed), _first_exp_avg(engine))
    greedy = SamplingParams(temperature=0.0, max_new_tokens=16)
    assert [r.completion_ids for r in resumed.generate(PROMPTS, greedy)] == [
        r.completion_ids for r in engine.generate(PROMPTS, greedy)
    ]

    # The same next update from both (from the same RNG state, which the two engines
    # share in this process) must land on the same weights: Adam's moments carried over.
    engine.update(samples)
    torch.set_rng_state(rng_at_save)
    resumed.update(samples)
    for mine, theirs in zip(engine.policy.parameters(), resumed.policy.parameters()):
        if engine.device.type == "cpu":
            assert torch.equal(mine, theirs)
        else:
            # GPU backward kernels add in varying order, and Adam turns that noise into a
            # whole step where a gradient is near zero; a fresh optimizer misses almost everywhere.
            agree = ((mine - theirs).abs() <= 1e-3 * config.lr).float().mean().item()
            assert agree > 0.999
