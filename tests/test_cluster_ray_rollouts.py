"""Rollout workers on a simulated two-node Ray cluster, against the engine's own sampler.

Greedy decoding is deterministic, so a worker holding the policy's weights must return
exactly the tokens the controller's own sampler returns, shard by shard, in prompt order.
"""

from __future__ import annotations

import threading

import pytest
import torch

from azr.cluster.config import ClusterConfig
from azr.engine import Engine, EngineConfig, SamplingParams

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.model

PROMPTS = ["Write a Python function that reverses a list.", "What is 7 * 6?", "Name a prime above 10.",
           "def f(x):\n    return x + 1\nWhat is f(2)?", "Say hello."]
GREEDY = SamplingParams(temperature=0.0, max_new_tokens=12, n=2)


@pytest.fixture(scope="module")
def engine():
    return Engine.from_config(EngineConfig(device="cpu", dtype="float32"))


@pytest.fixture(scope="module")
def workers(two_nodes, engine):
    from azr.cluster.ray_rollouts import RayRolloutBackend

    settings = ClusterConfig(ray="auto", rollout_workers=2)
    with RayRolloutBackend(ray, engine.policy, engine.tokenizer, engine.dtype, 16, settings) as backend:
        yield backend


def _tokens(engine, backend=None):
    if backend is None:
        rollouts = engine.generate(PROMPTS, GREEDY)
    else:
        with engine.rollouts_through(backend):
            rollouts = engine.generate(PROMPTS, GREEDY)
    return [(r.prompt_index, r.completion_ids) for r in rollouts]


def test_workers_sample_what_the_controller_samples_in_prompt_order(engine, workers):
    local = _tokens(engine)
    assert [index for index, _ in local] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert _tokens(engine, workers) == local
    assert engine.backend is not workers  # the block ended: the engine samples on its own again


def test_new_weights_reach_every_worker_before_the_next_rollouts(engine, workers):
    before = _tokens(engine)
    saved = {name: tensor.clone() for name, tensor in engine.policy.state_dict().items()}
    try:
        with torch.no_grad():
            for parameter in engine.policy.parameters():
                parameter.add_(torch.randn_like(parameter) * 0.05)
        after = _tokens(engine)
        assert after != before
        workers.sync_weights(engine.policy)
        assert _tokens(engine, workers) == after
    finally:
        engine.policy.load_state_dict(saved)
        workers.sync_weights(engine.policy)


def test_a_worker_killed_mid_batch_is_replaced_and_its_shard_sampled_again(engine, workers):
    local = _tokens(engine)
    victim = workers._workers[0]
    killer = threading.Timer(0.3, lambda: ray.kill(victim.handle, no_restart=True))
    killer.start()
    long = SamplingParams(temperature=0.0, max_new_tokens=48, n=1)
    with engine.rollouts_through(workers):
        engine.generate(PROMPTS, long)
    killer.join()
    assert workers.replaced == 1 and victim not in workers._workers
    assert _tokens(engine, workers) == local


def test_rollout_workers_need_a_ray_cluster():
    with pytest.raises(ValueError, match="cluster.rollout_workers needs a Ray cluster"):
        ClusterConfig(rollout_workers=2)
