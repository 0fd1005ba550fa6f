"""Scale-out overhead: the sandbox pool in this process against sandbox actors on a Ray cluster.

One run, same snippets, same pool shape per actor (``executor.*`` defaults):
- the local ``Executor`` (what a one-process run uses): the baseline;
- ``RayExecutorGroup`` with 1, 2 and 4 actors on a simulated two-node cluster (two raylets
  on loopback), SPREAD over the nodes.
- rollouts: the engine's own sampler against ``RayRolloutBackend`` with 1 and 2 workers
  (``--rollout-workers``) on the same prompts at equal work (end-of-text ignored), and the
  cost of one weight sync (the policy into the object store, then into every worker).
On one 2-core machine more actors cannot be faster; the tables show what the controller
and Ray add. ``--step-metrics RUN/metrics.jsonl`` turns the one-actor slowdown into the
share of a real step it would cost (from that run's ``time/execute`` and ``time/step``).

Run: `.venv/bin/python benchmarks/scale.py` (about two minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Sequence

import ray
import torch
from ray.cluster_utils import Cluster
from rich.console import Console
from rich.table import Table

from azr.cluster.config import ClusterConfig
from azr.cluster.ray_executor import RayExecutorGroup
from azr.cluster.ray_rollouts import RayRolloutBackend
from azr.engine import Engine, EngineConfig, SamplingParams
from azr.executor import Executor, ExecutorConfig, Snippet, SnippetRunner
from engine import PROMPTS
from executor import TASK, TRIVIAL

console = Console()


def _batch_seconds(runner: SnippetRunner, batch: Sequence[Snippet], rounds: int) -> float:
    runner.run_batch(batch[:4])
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        results = runner.run_batch(batch)
        times.append(time.perf_counter() - started)
        failed = [r for r in results if not r.ok]
        if failed:
            raise SystemExit(f"{len(failed)} snippets failed: {failed[0]}")
    return statistics.median(times)


def _call_ms(runner: SnippetRunner, calls: int) -> float:
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        runner.run_batch([TRIVIAL])
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _tokens_per_second(engine: Engine, params: SamplingParams, rounds: int) -> float:
    engine.generate(PROMPTS[:2], params)
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        rollouts = engine.generate(PROMPTS, params)
        rates.append(sum(len(r.completion_ids) for r in rollouts) / (time.perf_counter() - started))
    return statistics.median(rates)


def _rollout_rows(args: argparse.Namespace) -> list[tuple[str, float, float]]:
    """(sampler, tokens/s, weight sync s) for the engine's own sampler and each worker count."""
    engine = Engine.from_config(EngineConfig(device="cpu", dtype="float32"))
    params = SamplingParams(max_new_tokens=args.max_new_tokens, ignore_eos=True, seed=0)
    rows = [("engine's own sampler", _tokens_per_second(engine, params, args.rounds), 0.0)]
    for count in [int(w) for w in args.rollout_workers.split(",")]:
        settings = ClusterConfig(ray="auto", rollout_workers=count, rollout_threads=args.threads)
        with RayRolloutBackend(ray, engine.policy, engine.tokenizer, engine.dtype, len(PROMPTS), settings) as workers:
            started = time.perf_counter()
            workers.sync_weights(engine.policy)
            sync_s = time.perf_counter() - started
            with engine.rollouts_through(workers):
                rows.append((f"Ray, {count} rollout worker(s)", _tokens_per_second(engine, params, args.rounds), sync_s))
    return rows


def _missing_layers(config: ExecutorConfig) -> list[str]:
    with Executor(config) as local:
        return [layer.name for layer in local.layers() if not layer.active]


def _step_share(path: Path, slowdown: float) -> tuple[float, float, float]:
    """(mean execute s, mean step s, share of a step the slowdown would add)."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = [row for row in rows if "time/execute" in row and "time/step" in row]
    if not rows:
        raise SystemExit(f"{path} has no step with time/execute and time/step")
    execute = statistics.mean(row["time/execute"] for row in rows)
    step = statistics.mean(row["time/step"] for row in rows)
    return execute, step, execute * (slowdown - 1) / step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snippets", type=int, default=96, help="snippets per batch (a cpu-small step runs ~100s)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--actors", default="1,2,4")
    parser.add_argument("--calls", type=int, default=30, help="one-snippet round trips for the latency column")
    parser.add_argument("--step-metrics", type=Path, default=None, help="a run's metrics.jsonl")
    parser.add_argument("--rollout-workers", default="1,2", help="worker counts to time; empty skips rollouts")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="torch threads here and in each rollout worker")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = ExecutorConfig()
    batch = [Snippet(TASK.code, TASK.call, seed_slot=k % config.seed_slots) for k in range(args.snippets)]
    missing = _missing_layers(config)
    console.print(f"machine: {platform.machine()}, {os.cpu_count()} cores; pool per runner: {config.workers} workers "
                  f"x {config.seed_slots} seed slots; layers missing here: {missing or 'none'}")
    rows = []
    with Executor(config) as local:
        local_s = _batch_seconds(local, batch, args.rounds)
        rows.append(("local Executor", local_s, _call_ms(local, args.calls)))
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 4})
    cluster.add_node(num_cpus=4)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
    try:
        for actors in [int(a) for a in args.actors.split(",")]:
            settings = ClusterConfig(ray="auto", executor_workers=actors, allow_missing_layers=missing)
            with RayExecutorGroup(ray, config, settings) as group:
                nodes = len({node.node_id for node in group.nodes})
                rows.append((f"Ray, {actors} actor(s) on {nodes} node(s)", _batch_seconds(group, batch, args.rounds),
                             _call_ms(group, args.calls)))
        rollout_rows = _rollout_rows(args) if args.rollout_workers else []
    finally:
        ray.shutdown()
        cluster.shutdown()
    table = Table(title=f"Sandbox throughput, {args.snippets}-snippet batches (median of {args.rounds})")
    for column in ("runner", "batch s", "snippets/s", "vs local", "1-snippet call ms"):
        table.add_column(column, justify="right")
    for name, seconds, call_ms in rows:
        table.add_row(name, f"{seconds:.3f}", f"{args.snippets / seconds:.0f}", f"{local_s / seconds:.2f}x",
                      f"{call_ms:.1f}")
    console.print(table)
    if rollout_rows:
        rollouts = Table(title=f"Rollouts, {len(PROMPTS)} prompts x {args.max_new_tokens} tokens, float32, "
                               f"{args.threads} torch thread(s) per process (median of {args.rounds})")
        for column in ("sampler", "tokens/s", "vs own sampler", "weight sync s"):
            rollouts.add_column(column, justify="right")
        for name, rate, sync_s in rollout_rows:
            rollouts.add_row(name, f"{rate:.1f}", f"{rate / rollout_rows[0][1]:.2f}x", f"{sync_s:.2f}")
        console.print(rollouts)
    if args.step_metrics is not None:
        slowdown = rows[1][1] / local_s
        execute, step, share = _step_share(args.step_metrics, slowdown)
        console.print(f"controller overhead: one actor takes {slowdown:.2f}x the local pool's time; "
                      f"{args.step_metrics} spends {execute:.1f} s of a {step:.1f} s step executing, so Ray adds "
                      f"{share:.2%} of a step")


if __name__ == "__main__":
    main()
