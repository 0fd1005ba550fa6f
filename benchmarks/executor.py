"""Executor throughput and latency: our hardened fork-server pool against the usual options.

Three ways to run an untrusted snippet, timed in one run on the same snippets:
- azr pool: `azr.executor.Executor`, every sandbox layer this host offers switched on;
- fresh process: a new `python -c` per snippet with rlimits set before exec (what most
  projects do);
- in-process pool: warm `multiprocessing` workers that `exec` the code with no isolation at
  all (what the Absolute Zero reference code does).
Throughput is a batch run with two workers each (this machine has two cores); latency is one
snippet at a time, round trip from the caller. Run:
`flock /tmp/azr-heavy.lock .venv/bin/python benchmarks/executor.py`.

`--compare-src DIR` also times the azr pool of another checkout (its `src/`, for example a
`git worktree` of an older commit) in a subprocess of the same run, so the cost of a
change to the sandbox is read against a baseline measured under the same load. On a
shared machine the position of a pool in the run moves its rate by up to 20%, so with
`--rounds R` this checkout's pool and each other one run R times more, each in its own
subprocess and in an order that rotates every round; the second table gives each pool's
median and range and its ratio to this checkout within each round (median, range). CPU
milliseconds per snippet (every process of the pool, the snippets' own included) are given
beside each rate: on a shared machine they move far less than a rate does.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

from rich.console import Console
from rich.table import Table

from azr.executor import Executor, ExecutorConfig, Snippet

TRIVIAL = Snippet(code="x = 1", call="x")
# The size and shape of a typical self-play task: string and list work, a dict, a loop.
TASK = Snippet(
    code='''
def f(words, k):
    counts = {}
    for word in words:
        key = "".join(sorted(word.lower()))
        counts[key] = counts.get(key, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    out = []
    for key, count in ranked[:k]:
        total = sum(ord(ch) % 7 for ch in key)
        out.append((key, count, total if count % 2 else -total))
    return out
''',
    call="f(['listen', 'silent', 'enlist', 'google', 'gogole', 'cat', 'act', 'tac', 'dog'], 3)",
)
WORKERS = 2

_DRIVER = "import sys\nns = {}\nexec(sys.argv[1], ns)\nprint(repr(eval(sys.argv[2], ns)) if sys.argv[2] else '')"


def _limit_child() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    resource.setrlimit(resource.RLIMIT_CPU, (10, 11))
    resource.setrlimit(resource.RLIMIT_FSIZE, (8 << 20, 8 << 20))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def fresh_process(snippet: Snippet) -> str:
    done = subprocess.run([sys.executable, "-c", _DRIVER, snippet.code, snippet.call or ""], capture_output=True,
                          timeout=10, preexec_fn=_limit_child, text=True)
    return done.stdout.strip()


def in_process(code: str, call: str | None) -> str:
    namespace: dict[str, object] = {}
    exec(code, namespace)
    return repr(eval(call, namespace)) if call else ""


class Runner:
    """One way of running snippets: a batch call and a single call."""

    name = ""

    def batch(self, snippets: Sequence[Snippet]) -> list[str | None]:
        raise NotImplementedError

    def one(self, snippet: Snippet) -> str | None:
        return self.batch([snippet])[0]

    def close(self) -> None:
        pass


class PoolRunner(Runner):
    name = "azr pool (all layers)"

    def __init__(self) -> None:
        self.executor = Executor(ExecutorConfig(workers=WORKERS, seed_slots=1))
        self.layers = [layer.name for layer in self.executor.layers() if layer.active]

    def batch(self, snippets: Sequence[Snippet]) -> list[str | None]:
        return [r.value_repr for r in self.executor.run_batch(snippets)]

    def close(self) -> None:
        self.executor.close()


class FreshProcessRunner(Runner):
    name = "fresh python -c + rlimits"

    def __init__(self) -> None:
        self.threads = ThreadPoolExecutor(WORKERS)

    def batch(self, snippets: Sequence[Snippet]) -> list[str | None]:
        return list(self.threads.map(fresh_process, snippets))

    def one(self, snippet: Snippet) -> str | None:
        return fresh_process(snippet)

    def close(self) -> None:
        self.threads.shutdown()


class InProcessRunner(Runner):
    name = "in-process pool (no isolation)"

    def __init__(self) -> None:
        self.pool = multiprocessing.get_context("fork").Pool(WORKERS)

    def batch(self, snippets: Sequence[Snippet]) -> list[str | None]:
        return self.pool.starmap(in_process, [(s.code, s.call) for s in snippets], chunksize=1)

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()


def tree_cpu_seconds() -> float:
    """CPU time of this process, of what it reaped, and of its live children with everything
    they reaped (a worker's children count in its time once it waits for them). Unlike a rate,
    this barely moves when other jobs share the machine."""
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    total = sum(u.ru_utime + u.ru_stime for u in usage)
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path("/proc/self/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # it exited in between
                continue
            total += sum(int(value) for value in fields[11:15]) / tick  # utime, stime, cutime, cstime
    return total


def throughput(runner: Runner, snippet: Snippet, count: int) -> tuple[float, float]:
    """Snippets per second, and CPU milliseconds per snippet over every process involved."""
    runner.batch([snippet] * 20)  # warm up
    cpu_before = tree_cpu_seconds()
    started = time.perf_counter()
    values = runner.batch([snippet] * count)
    elapsed = time.perf_counter() - started
    cpu_ms = (tree_cpu_seconds() - cpu_before) * 1000 / count
    assert len(set(values)) == 1 and values[0], f"{runner.name} gave {set(values)}"
    return count / elapsed, cpu_ms


def latencies(runner: Runner, snippet: Snippet, count: int) -> tuple[float, float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        runner.one(snippet)
        samples.append(time.perf_counter() - started)
    cuts = statistics.quantiles(samples, n=20)
    return statistics.median(samples) * 1000, cuts[18] * 1000


Row = tuple[str, str, float, float, float, float]  # runner, snippet, rate, CPU ms per snippet, p50, p95


def measure(runner: Runner, count: int, latency_count: int) -> list[Row]:
    """Throughput and latency of one runner on both snippets; the runner is closed after."""
    rows = []
    try:
        for label, snippet in (("trivial", TRIVIAL), ("task-sized", TASK)):
            rate, cpu_ms = throughput(runner, snippet, count)
            p50, p95 = latencies(runner, snippet, min(latency_count, count))
            rows.append((runner.name, label, rate, cpu_ms, p50, p95))
    finally:
        runner.close()
    return rows


def pool_of_other_checkout(src: Path, count: int, latency_count: int) -> list[Row]:
    """The azr pool rows of the checkout whose package lives in ``src``, timed in a subprocess."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, __file__, "--pool-json", "--count", str(count), "--latency-count", str(latency_count)],
        env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"the pool of {src} failed:\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout)
    loaded = Path(report["loaded_from"]).resolve()
    if not loaded.is_relative_to(src.resolve()):
        raise SystemExit(f"--compare-src {src}: the subprocess imported azr from {loaded} instead")
    return [(f"azr pool @ {src.resolve().parent.name}", *row[1:]) for row in report["rows"]]


def interleaved(srcs: Sequence[Path], rounds: int, count: int, latency_count: int) -> Table:
    """Every pool in ``srcs`` (this checkout's first) once per round, rotating the order."""
    rates: dict[tuple[Path, str], list[float]] = {}
    cpu: dict[tuple[Path, str], list[float]] = {}
    for round_index in range(rounds):
        shift = round_index % len(srcs)
        for src in srcs[shift:] + srcs[:shift]:
            for _, label, rate, cpu_ms, _, _ in pool_of_other_checkout(src, count, latency_count):
                rates.setdefault((src, label), []).append(rate)
                cpu.setdefault((src, label), []).append(cpu_ms)
    table = Table(title=f"azr pools in {rounds} interleaved rounds (order rotated each round, "
                        f"load {os.getloadavg()[0]:.1f} at the end)")
    for column in ("pool", "snippet", "median snippets/s", "range", "this pool vs it, per round (median, range)",
                   "median CPU ms/snippet", "this pool's CPU vs it, per round (median, range)"):
        table.add_column(column, justify="left" if column in ("pool", "snippet") else "right")
    for (src, label), values in rates.items():
        ratios = [mine / theirs - 1 for mine, theirs in zip(rates[(srcs[0], label)], values)]
        cpu_ratios = [mine / theirs - 1 for mine, theirs in zip(cpu[(srcs[0], label)], cpu[(src, label)])]
        own = src == srcs[0]
        table.add_row(str(src), label, f"{statistics.median(values):,.0f}", f"{min(values):,.0f}-{max(values):,.0f}",
                      "" if own else f"{statistics.median(ratios):+.0%} ({min(ratios):+.0%} to {max(ratios):+.0%})",
                      f"{statistics.median(cpu[(src, label)]):.2f}",
                      "" if own else
                      f"{statistics.median(cpu_ratios):+.0%} ({min(cpu_ratios):+.0%} to {max(cpu_ratios):+.0%})")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="snippets per throughput batch (warm pools)")
    parser.add_argument("--fresh-count", type=int, default=200, help="snippets per batch for fresh processes")
    parser.add_argument("--latency-count", type=int, default=200)
    parser.add_argument("--compare-src", type=Path, action="append", default=[], metavar="DIR",
                        help="also time the azr pool of the checkout whose package is in DIR (repeatable)")
    parser.add_argument("--rounds", type=int, default=0, metavar="R",
                        help="with --compare-src: R more interleaved rounds of every azr pool, each in a subprocess")
    parser.add_argument("--pool-json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rounds < 0 or (args.rounds and not args.compare_src):
        parser.error("--rounds takes a count of 0 or more, and needs --compare-src to have something to interleave")
    if args.pool_json:
        import azr

        rows = measure(PoolRunner(), args.count, args.latency_count)
        print(json.dumps({"loaded_from": str(Path(azr.__file__).parent), "rows": rows}))
        return
    for src in args.compare_src:
        if not (src / "azr" / "executor").is_dir():
            parser.error(f"--compare-src {src}: no azr/executor package there; pass a checkout's src/ directory")
    console = Console(width=160)
    factories: list[tuple[Callable[[], Runner], int]] = [
        (PoolRunner, args.count), (FreshProcessRunner, args.fresh_count), (InProcessRunner, args.count)]
    rows: list[Row] = []
    layers: list[str] = []
    for factory, count in factories:
        runner = factory()
        if isinstance(runner, PoolRunner):
            layers = runner.layers
        rows += measure(runner, count, args.latency_count)
    for src in args.compare_src:
        rows += pool_of_other_checkout(src, args.count, args.latency_count)
    fresh = {label: rate for name, label, rate, _, _, _ in rows if name == FreshProcessRunner.name}
    current = {label: rate for name, label, rate, _, _, _ in rows if name == PoolRunner.name}
    table = Table(title=f"executor on {os.cpu_count()} cores ({platform.processor() or platform.machine()}, "
                        f"load {os.getloadavg()[0]:.1f}); azr layers: {', '.join(layers)}")
    for column in ("runner", "snippet", "snippets/s", "CPU ms/snippet", "p50 ms", "p95 ms", "vs fresh process",
                   "this pool vs it"):
        table.add_column(column, justify="left" if column in ("runner", "snippet") else "right")
    for name, label, rate, cpu_ms, p50, p95 in rows:
        table.add_row(name, label, f"{rate:,.0f}", f"{cpu_ms:.2f}", f"{p50:.2f}", f"{p95:.2f}",
                      f"{rate / fresh[label]:.1f}x", f"{current[label] / rate - 1:+.0%}")
    console.print(table)
    if args.rounds:
        import azr

        own_src = Path(azr.__file__).resolve().parent.parent
        console.print(interleaved([own_src, *args.compare_src], args.rounds, args.count, args.latency_count))


if __name__ == "__main__":
    main()
