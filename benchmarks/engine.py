"""Engine speed and memory on the default model, each against a plain-transformers baseline.

- Generation: tokens/s of `Engine.generate` (which also returns every token's log-prob)
  against `model.generate` on the same prompts, weights, batch size and sampling settings.
  Tokens counted are the completion tokens each returns, up to and including end-of-text.
- Update: one `Engine.update` (chunked, checkpointed log-probs) against the same update
  written the plain way (full-vocabulary logits of every position, then log-softmax),
  each in a fresh process so peak memory is its own. On CPU peak memory is the process's
  peak resident size (model, optimizer state and all); on a GPU, peak allocated memory.

- Backends (`--backends transformers,vllm`, run with `.venv-vllm/bin/python` from
  `make setup-vllm`): each rollout backend in a fresh process of its own, for start-up,
  tokens/s at equal work (end-of-text ignored), the weight-sync cost after an update, and
  whole cpu-small self-play steps through `azr train` (unequal work: each backend samples
  its own tokens, so the table gives the tokens generated beside the seconds).

Run `flock /tmp/azr-heavy.lock .venv/bin/python benchmarks/engine.py` (flags shrink it:
`--batches 1,8 --dtypes float32 --update-seqs 4 --update-len 256`).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from azr.engine import Engine, EngineConfig, SamplingParams, TrainSample, task_relative_advantages
from azr.engine.hardware import autocast, peak_memory_bytes, reset_peak_memory
from azr.engine.logprobs import PackedBatch, completion_logprobs
from azr.engine.loss import clipped_policy_loss

console = Console()

TOPICS = [
    "reverses a string", "counts vowels in a word", "returns the n-th Fibonacci number", "checks if a number is prime",
    "sorts a list of tuples by the second item", "merges two sorted lists", "flattens a nested list",
    "finds the most common element of a list", "converts Celsius to Fahrenheit", "computes a factorial",
    "removes duplicates from a list while keeping order", "checks whether a string is a palindrome",
    "returns the sum of the digits of an integer", "transposes a matrix", "counts the words in a sentence",
    "returns the longest word in a sentence", "computes the greatest common divisor", "rotates a list by k places",
    "checks if two strings are anagrams", "returns the running sum of a list", "groups words by their first letter",
    "finds the second largest number in a list", "capitalises every word in a string", "computes the median of a list",
    "returns the binary representation of an integer", "checks balanced parentheses", "computes a dot product",
    "returns every k-th element of a list", "counts characters in a string", "interleaves two lists",
    "finds the index of the minimum element", "computes the power set of a small list",
]
PROMPTS = [f"Write a Python function that {topic}. Explain it briefly." for topic in TOPICS]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _hf_generate_tokens(engine: Engine, prompts: list[list[int]], max_new_tokens: int, ignore_eos: bool) -> int:
    model, tokenizer = engine.backend.model, engine.tokenizer
    width = max(len(p) for p in prompts)
    pad = tokenizer.pad_token_id
    ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], device=engine.device)
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=engine.device)
    with torch.inference_mode():
        out = model.generate(
            input_ids=ids, attention_mask=mask, do_sample=True, temperature=1.0, top_p=1.0, top_k=0,
            max_new_tokens=max_new_tokens, min_new_tokens=max_new_tokens if ignore_eos else 0, pad_token_id=pad,
        )
    stop_ids = engine.backend.stop_token_ids
    total = 0
    for row in out[:, width:].tolist():
        ends = [i for i, t in enumerate(row) if t in stop_ids]
        total += ends[0] + 1 if ends else len(row)
    return total


def bench_generation(args: argparse.Namespace) -> Table:
    work = "natural end-of-text" if args.natural_eos else "end-of-text ignored, equal work"
    title = f"Generation, up to {args.max_new_tokens} new tokens, T=1.0, {work} (tokens/s, higher is better)"
    table = Table(title=title)
    for column in ("dtype", "batch", "azr Engine.generate", "transformers generate", "azr / transformers"):
        table.add_column(column, justify="right")
    for dtype in args.dtypes:
        engine = Engine.from_config(EngineConfig(dtype=dtype, device=args.device, seed=0))
        for batch in args.batches:
            engine.backend.batch_size = batch
            texts = (PROMPTS * (batch // len(PROMPTS) + 1))[:batch]
            encoded = [engine.encode_prompt(t) for t in texts]
            ignore_eos = not args.natural_eos
            params = SamplingParams(temperature=1.0, max_new_tokens=args.max_new_tokens, seed=0, ignore_eos=ignore_eos)
            # Warm-up. A GPU picks kernels the first time it meets a shape, so there both
            # run once at full size before timing; a CPU needs only a small first call.
            warm = (texts, args.max_new_tokens) if engine.device.type == "cuda" else (texts[:2], 4)
            engine.generate(warm[0], SamplingParams(max_new_tokens=warm[1], seed=1, ignore_eos=ignore_eos))
            _hf_generate_tokens(engine, [engine.encode_prompt(t) for t in warm[0]], warm[1], ignore_eos)
            runners = {
                "ours": lambda: sum(len(r.completion_ids) for r in engine.generate(texts, params)),
                "theirs": lambda: _hf_generate_tokens(engine, encoded, args.max_new_tokens, ignore_eos),
            }
            rates = {"ours": 0.0, "theirs": 0.0}
            for repeat in range(args.repeats):
                # Alternate who goes first, so neither gains from the other's warm caches.
                for name in ("ours", "theirs") if repeat % 2 == 0 else ("theirs", "ours"):
                    _sync(engine.device)
                    start = time.perf_counter()
                    tokens = runners[name]()
                    _sync(engine.device)
                    rates[name] += tokens / (time.perf_counter() - start)
            ours, theirs = rates["ours"] / args.repeats, rates["theirs"] / args.repeats
            table.add_row(dtype, str(batch), f"{ours:.1f}", f"{theirs:.1f}", f"{ours / theirs:.2f}x")
            console.print(f"  {dtype} batch {batch}: azr {ours:.1f} tok/s, transformers {theirs:.1f} tok/s")
        del engine
    return table


def _text_samples(engine: Engine, count: int, length: int) -> list[TrainSample]:
    """Real text (this repository's Python source) cut into prompt + completion windows."""
    source = "\n".join(p.read_text() for p in sorted(Path(__file__).resolve().parents[1].glob("src/azr/**/*.py")))
    ids = engine.tokenizer(source, add_special_tokens=False)["input_ids"]
    prompt_len = min(64, length // 4)
    samples = []
    rng = random.Random(0)
    for i in range(count):
        start = (i * length) % max(len(ids) - length, 1)
        window = ids[start : start + length]
        samples.append(
            TrainSample(
                prompt_ids=window[:prompt_len],
                completion_ids=window[prompt_len:],
                old_logprobs=[0.0] * (len(window) - prompt_len),
                reward=float(rng.random() < 0.5),
                group=("deduction/solve", "induction/propose")[i % 2],
            )
        )
    # Old log-probs from the model itself, so ratios start near one as in training.
    with torch.no_grad():
        for sample in samples:
            batch = PackedBatch.build(
                [sample.prompt_ids], [sample.completion_ids], [1.0], engine.tokenizer.pad_token_id, engine.device
            )
            with autocast(engine.device, engine.dtype):
                sample.old_logprobs[:] = completion_logprobs(engine.policy, batch, 4096)[0].tolist()
    return samples


def _full_logits_update(engine: Engine, samples: list[TrainSample]) -> None:
    """The same update the plain way: full-vocabulary logits for every position at once."""
    cfg, policy = engine.config, engine.policy
    advantages = task_relative_advantages([s.reward for s in samples], [s.group for s in samples])
    tokens = sum(len(s.completion_ids) for s in samples)
    optimizer = engine.updater.optimizer
    optimizer.zero_grad(set_to_none=True)
    for start in range(0, len(samples), cfg.micro_batch_size):
        micro = samples[start : start + cfg.micro_batch_size]
        batch = PackedBatch.build(
            [s.prompt_ids for s in micro], [s.completion_ids for s in micro], [1.0] * len(micro),
            engine.tokenizer.pad_token_id, engine.device,
        )
        with autocast(engine.device, engine.dtype):
            logits = policy(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits.float()
        logprobs_all = torch.log_softmax(logits, dim=-1)
        logprobs = logprobs_all[batch.predicts].gather(-1, batch.targets[:, None]).squeeze(-1)
        entropy = -(logprobs_all.exp() * logprobs_all).sum(-1)[batch.predicts]
        old = torch.tensor([x for s in micro for x in s.old_logprobs], device=engine.device)
        adv = torch.tensor(advantages[start : start + len(micro)], device=engine.device)[batch.sample_index]
        terms = clipped_policy_loss(logprobs, old, adv, entropy, cfg.clip_ratio)
        (terms.loss_sum / tokens).backward()
    torch.nn.utils.clip_grad_norm_(engine.updater.parameters, cfg.max_grad_norm)
    optimizer.step()


def _update_child(mode: str, dtype: str, device: str, seqs: int, length: int, micro: int, queue) -> None:
    engine = Engine.from_config(EngineConfig(dtype=dtype, device=device, micro_batch_size=micro, seed=0))
    samples = _text_samples(engine, seqs, length)
    run = engine.update if mode == "chunked" else lambda s: _full_logits_update(engine, list(s))
    run(samples[:2])  # warm-up, and the optimizer's state exists before the measured step
    _sync(engine.device)
    reset_peak_memory(engine.device)
    start = time.perf_counter()
    run(samples)
    _sync(engine.device)
    queue.put((time.perf_counter() - start, peak_memory_bytes(engine.device)))


def bench_update(args: argparse.Namespace) -> Table:
    title = f"Update: {args.update_seqs} sequences of {args.update_len} tokens, micro-batch {args.micro_batch}"
    table = Table(title=title)
    for column in ("dtype", "log-probs", "seconds", "peak memory (MiB)"):
        table.add_column(column, justify="right")
    context = multiprocessing.get_context("spawn")
    for dtype in args.update_dtypes:
        for mode, label in (("full", "full logits (baseline)"), ("chunked", "azr chunked")):
            queue = context.Queue()
            child = context.Process(
                target=_update_child,
                args=(mode, dtype, args.device, args.update_seqs, args.update_len, args.micro_batch, queue),
            )
            child.start()
            seconds, peak = queue.get()
            child.join()
            table.add_row(dtype, label, f"{seconds:.1f}", f"{peak / 2**20:.0f}")
            console.print(f"  {dtype} {label}: {seconds:.1f} s, peak {peak / 2**20:.0f} MiB")
    return table


# A backend as the table names it, and the engine settings that make it.
BACKENDS = {
    "transformers": {"rollout": "transformers"},
    "vllm": {"rollout": "vllm"},
    "vllm-compiled": {"rollout": "vllm", "vllm": {"enforce_eager": False}},
}


def _backend_child(backend: str, args: argparse.Namespace, queue) -> None:
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    engine = Engine.from_config(EngineConfig(**BACKENDS[backend], dtype="float32", device=args.device, seed=0))
    result: dict[str, float] = {
        "engine_s": time.perf_counter() - started,
        "startup_s": getattr(engine.backend, "startup_seconds", 0.0),
    }
    engine.generate(PROMPTS[:2], SamplingParams(max_new_tokens=4, seed=1, ignore_eos=True))  # warm-up
    for batch in args.backend_batches:
        if hasattr(engine.backend, "batch_size"):
            engine.backend.batch_size = batch
        texts = (PROMPTS * (batch // len(PROMPTS) + 1))[:batch]
        params = SamplingParams(temperature=1.0, max_new_tokens=args.max_new_tokens, seed=0, ignore_eos=True)
        _sync(engine.device)
        start = time.perf_counter()
        tokens = sum(len(r.completion_ids) for r in engine.generate(texts, params))
        _sync(engine.device)
        result[f"tok_s_{batch}"] = tokens / (time.perf_counter() - start)
    syncs = []
    for _ in range(3):
        start = time.perf_counter()
        engine.backend.sync_weights(engine.policy)
        syncs.append(time.perf_counter() - start)
    result["sync_s"] = sorted(syncs)[1]
    queue.put(result)


def _flat(settings: dict, prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in settings.items():
        flat.update(_flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return flat


def _self_play_steps(backend: str, args: argparse.Namespace) -> tuple[float, float, float]:
    """(mean step seconds, mean generate seconds, tokens per step) over the steps after the first."""
    with tempfile.TemporaryDirectory() as run_dir:
        command = [sys.executable, "-c", "from azr.cli.main import run; run()", "train", "--preset", "cpu-small",
                   "--steps", str(args.step_count), "--run-dir", f"{run_dir}/run", "seed=0",
                   *(f"engine.{key}={value}" for key, value in _flat(BACKENDS[backend]).items())]
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise SystemExit(f"azr train with engine.rollout={backend} failed:\n{done.stderr[-3000:]}")
        lines = Path(f"{run_dir}/run/metrics.jsonl").read_text().splitlines()
    steps = [m for m in map(json.loads, lines) if "time/step" in m][1:] or [json.loads(lines[-1])]
    count = len(steps)
    return (sum(m["time/step"] for m in steps) / count, sum(m["time/generate"] for m in steps) / count,
            sum(m["tokens/generated"] for m in steps) / count)


def bench_backends(args: argparse.Namespace) -> list[Table]:
    context = multiprocessing.get_context("spawn")
    results = {}
    for backend in args.backends:
        queue = context.Queue()
        child = context.Process(target=_backend_child, args=(backend, args, queue))
        child.start()
        results[backend] = queue.get()
        child.join()
        console.print(f"  {backend}: {results[backend]}")
    base, *others = args.backends
    title = (f"Rollout backends, float32, {args.threads} torch thread(s), {args.max_new_tokens} new tokens, "
             "T=1.0, end-of-text ignored (higher tokens/s is better)")
    table = Table(title=title)
    for column in ("measure", *args.backends, *(f"{o} / {base}" for o in others)):
        table.add_column(column, justify="right")
    rows = [(f"tokens/s, batch {b}", f"tok_s_{b}", "{:.1f}", True) for b in args.backend_batches]
    rows += [("start-up s (backend)", "startup_s", "{:.1f}", False),
             ("engine ready s (load + start-up)", "engine_s", "{:.1f}", False),
             ("weight sync s (median of 3)", "sync_s", "{:.3f}", False)]
    for label, key, fmt, compared in rows:
        values = [results[b][key] for b in args.backends]
        ratios = [f"{v / values[0]:.2f}x" if compared else "" for v in values[1:]]
        table.add_row(label, *(fmt.format(v) for v in values), *ratios)
    tables = [table]
    if args.step_count > 0:
        step_backends = args.step_backends or args.backends
        steps = Table(title=f"Whole cpu-small self-play steps ({args.step_count} steps, the first left out)")
        for column in ("backend", "step s", "generate s", "tokens/step", f"step speed-up vs {step_backends[0]}"):
            steps.add_column(column, justify="right")
        measured = {b: _self_play_steps(b, args) for b in step_backends}
        for backend, (step_s, generate_s, tokens) in measured.items():
            speed_up = measured[step_backends[0]][0] / step_s
            steps.add_row(backend, f"{step_s:.1f}", f"{generate_s:.1f}", f"{tokens:.0f}", f"{speed_up:.2f}x")
            console.print(f"  {backend} step: {step_s:.1f} s, generate {generate_s:.1f} s, {tokens:.0f} tokens")
        tables.append(steps)
    return tables


def machine() -> str:
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name()}, torch {torch.__version__}"
    return f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="1,8,32", help="generation batch sizes, comma-separated")
    parser.add_argument("--dtypes", default="float32,bfloat16", help="for generation")
    parser.add_argument("--update-dtypes", default="float32,bfloat16")
    parser.add_argument("--natural-eos", action="store_true", help="stop rows at end-of-text (unequal work)")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--update-seqs", type=int, default=16)
    parser.add_argument("--update-len", type=int, default=512)
    parser.add_argument("--micro-batch", type=int, default=4)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--skip-generation", action="store_true")
    parser.add_argument("--skip-update", action="store_true")
    parser.add_argument("--backends", default="", help=f"compare rollout backends instead: {', '.join(BACKENDS)}")
    parser.add_argument("--backend-batches", default="8,32,128")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process (backends)")
    parser.add_argument("--step-count", type=int, default=3, help="cpu-small steps per backend; 0 skips them")
    parser.add_argument("--step-backends", default="", help="backends for the whole steps (default: --backends)")
    args = parser.parse_args()
    if args.backends:
        args.backends = args.backends.split(",")
        unknown = [b for b in args.backends if b not in BACKENDS]
        if unknown:
            parser.error(f"unknown backend(s) {unknown}; choose from {', '.join(BACKENDS)}")
        args.backend_batches = [int(b) for b in args.backend_batches.split(",")]
        args.step_backends = [b for b in args.step_backends.split(",") if b]
        console.print(f"machine: {machine()}")
        for table in bench_backends(args):
            console.print(table)
        return
    args.batches = [int(b) for b in args.batches.split(",")]
    args.dtypes = args.dtypes.split(",")
    args.update_dtypes = args.update_dtypes.split(",")
    console.print(f"machine: {machine()}")
    tables = []
    if not args.skip_generation:
        tables.append(bench_generation(args))
    if not args.skip_update:
        tables.append(bench_update(args))
    for table in tables:
        console.print(table)


if __name__ == "__main__":
    main()
