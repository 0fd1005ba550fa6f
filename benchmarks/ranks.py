"""Update seconds on 1 and on 2 trainer ranks (torchrun, gloo on CPU), same samples, default model.

The driver starts ``torchrun --nproc_per_node N`` on this same file once per rank count;
each rank builds the engine (fp32, one torch thread), runs a warm-up update so the
optimizer state exists, then the measured update. Before that the ranks time one all-reduce
of a gradient-sized set of tensors, the communication each optimizer step adds.

On this 2-core machine, shared with other jobs, two ranks show the overhead of splitting
(the all-reduce, duplicated work per rank), not a speed-up: that needs a core, or a GPU,
per rank.

Run `flock /tmp/azr-heavy.lock .venv/bin/python benchmarks/ranks.py` (`--seqs 4 --length 128` shrinks it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

console = Console()


def _samples(tokenizer, count: int, length: int) -> list:
    """Windows of this repository's Python source as prompt + completion."""
    from azr.engine import TrainSample

    source = "\n".join(p.read_text() for p in sorted(Path(__file__).resolve().parents[1].glob("src/azr/**/*.py")))
    ids = tokenizer(source, add_special_tokens=False)["input_ids"]
    prompt_len = min(64, length // 4)
    rng = random.Random(0)
    samples = []
    for i in range(count):
        start = (i * length) % max(len(ids) - length, 1)
        window = ids[start : start + length]
        completion = window[prompt_len:]
        samples.append(TrainSample(window[:prompt_len], completion, [0.0] * len(completion),
                                   reward=float(rng.random() < 0.5), group=("deduction/solve", "induction/propose")[i % 2]))
    return samples


def _all_reduce_seconds(group, parameters: list[torch.Tensor]) -> float:
    buffers = [p.detach().clone() for p in parameters]
    started = time.perf_counter()
    for buffer in buffers:
        group.all_reduce_sum(buffer)
    return time.perf_counter() - started


def worker(args: argparse.Namespace) -> None:
    from azr.cluster.ranks import follow, init_ranks, shutdown
    from azr.engine import Engine, EngineConfig

    torch.set_num_threads(args.threads)
    group = init_ranks("cpu", rendezvous_timeout=300)
    config = EngineConfig(device="cpu", dtype="float32", micro_batch_size=args.micro_batch, seed=0, chat_template="off")
    engine = Engine.from_config(config, group)
    reduce_seconds = None if group is None else _all_reduce_seconds(group, engine.updater.parameters)
    if group is not None and not group.is_controller:
        follow(engine, group)
        shutdown(group)
        return
    samples = _samples(engine.tokenizer, args.seqs, args.length)
    engine.update(samples[:2])
    started = time.perf_counter()
    stats = engine.update(samples)
    seconds = time.perf_counter() - started
    shutdown(group)
    result = {"seconds": seconds, "loss": stats.loss, "grad_norm": stats.grad_norm, "tokens": stats.tokens,
              "all_reduce_seconds": reduce_seconds, "threads": torch.get_num_threads()}
    Path(args.out).write_text(json.dumps(result))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _launch(ranks: int, args: argparse.Namespace, out: Path) -> dict:
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(ranks), "--master_addr", "127.0.0.1",
        "--master_port", str(_free_port()), __file__, "--worker", "--out", str(out), "--seqs", str(args.seqs),
        "--length", str(args.length), "--micro-batch", str(args.micro_batch), "--threads", str(args.threads),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    subprocess.run(command, env=env, check=True)
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seqs", type=int, default=8)
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--micro-batch", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per rank")
    parser.add_argument("--ranks", default="1,2")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for ranks in [int(r) for r in args.ranks.split(",")]:
            results[ranks] = _launch(ranks, args, Path(scratch) / f"ranks{ranks}.json")
            console.print(f"  {ranks} rank(s): {results[ranks]['seconds']:.1f} s")
    base = results[min(results)]["seconds"]
    table = Table(
        title=f"Update on trainer ranks: {args.seqs} sequences of {args.length} tokens, micro-batch {args.micro_batch}, "
        f"fp32, {args.threads} torch thread(s) per rank, gloo on CPU",
        caption="On 2 cores shared with other jobs this shows the overhead of ranks, not a speed-up.",
    )
    for column in ("ranks", "update seconds", "vs fewest ranks", "gradient all-reduce s", "loss", "grad norm", "tokens"):
        table.add_column(column, justify="right")
    for ranks, result in results.items():
        reduce = result["all_reduce_seconds"]
        table.add_row(str(ranks), f"{result['seconds']:.1f}", f"{result['seconds'] / base:.2f}x",
                      "-" if reduce is None else f"{reduce:.2f}", f"{result['loss']:.3e}", f"{result['grad_norm']:.4f}",
                      str(result["tokens"]))
    console.print(table)


if __name__ == "__main__":
    main()
