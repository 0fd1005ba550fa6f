"""One trainer rank for tests/test_cluster_ranks.py, started by torchrun; also the shared fixtures.

Under torchrun each rank: joins the group, builds the engine from ``--model``, runs the
first update (the controller after drawing from its generator, as generation would), the
controller writes a checkpoint, then every rank resumes from ``--resume`` (a checkpoint a
single process wrote) and runs the second update, then runs one update with LoRA. Every rank dumps its weights and
optimizer state after each update; the controller dumps the stats.
"""

from __future__ import annotations

import argparse
import pickle
import random
from pathlib import Path

import torch

from azr.engine import EngineConfig, LoraSettings, TrainSample

VOCAB = 97
LORA = LoraSettings(r=4, alpha=8)


def config(**overrides) -> EngineConfig:
    """Settings where a wrong split shows: uneven micro-batch shares, two mini-batches, two epochs, KL, clipping."""
    settings = dict(
        device="cpu", dtype="float32", chat_template="off", lr=1e-2, ppo_epochs=2, mini_batch_size=6,
        micro_batch_size=2, kl_coef=0.1, entropy_coef=0.01, max_grad_norm=0.5, seed=3,
    )
    return EngineConfig(**{**settings, **overrides})


def samples(seed: int, count: int = 12) -> list[TrainSample]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        prompt = [rng.randrange(3, VOCAB) for _ in range(rng.randrange(2, 7))]
        completion = [rng.randrange(3, VOCAB) for _ in range(rng.randrange(1, 9))]
        old = [-rng.uniform(3.0, 6.0) for _ in completion]
        out.append(TrainSample(prompt, completion, old, reward=rng.choice([1.0, 0.0, -0.5]), group=f"g{i % 3}"))
    return out


def generation_draws() -> None:
    """What the controller's generation does to the global generator before an update."""
    torch.rand(7)


def dump(engine, path: Path) -> None:
    state = {
        "weights": {k: v.detach().clone() for k, v in engine.policy.state_dict().items()},
        "optimizer": engine.updater.optimizer.state_dict(),
    }
    torch.save(state, path)


def main() -> None:
    from azr.cluster.ranks import follow, init_ranks, shutdown, stop_followers
    from azr.engine import Engine
    from azr.engine.checkpoint import atomic_checkpoint
    from azr.engine.errors import RankError

    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--resume", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    group = init_ranks("cpu", rendezvous_timeout=60)
    assert group is not None
    engine = Engine.from_config(config(model=args.model), group)
    results: dict = {"rank": group.rank}
    if group.is_controller:
        generation_draws()
        results["first"] = engine.update(samples(1))
        with atomic_checkpoint(args.out / "checkpoint") as staging:
            engine.save_checkpoint(staging)
        stop_followers(group)
    else:
        results["updates"] = follow(engine, group)
        try:
            engine.save_checkpoint(args.out / f"refused{group.rank}")
        except RankError as exc:
            results["save_refused"] = str(exc)
    dump(engine, args.out / f"first.rank{group.rank}.pt")

    engine = Engine.from_checkpoint(args.resume, config(model=args.model), group)
    if group.is_controller:
        results["second"] = engine.update(samples(2))
        stop_followers(group)
    else:
        follow(engine, group)
    dump(engine, args.out / f"second.rank{group.rank}.pt")

    engine = Engine.from_config(config(model=args.model, lora=LORA), group)
    if group.is_controller:
        results["lora"] = engine.update(samples(1))
    else:
        follow(engine, group)
    dump(engine, args.out / f"lora.rank{group.rank}.pt")
    shutdown(group)
    (args.out / f"results.rank{group.rank}.pkl").write_bytes(pickle.dumps(results))


if __name__ == "__main__":
    main()
