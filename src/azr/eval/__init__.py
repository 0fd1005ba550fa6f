"""azr.eval: benchmarks behind one interface, the evaluation loop, results, and the in-training probe."""

from azr.eval.benchmarks import Benchmark, Judgement, Record, all_benchmarks, register, select
from azr.eval.in_training import evaluate_in_training
from azr.eval.results import BenchResult, EvalReport
from azr.eval.runner import EvalSettings, evaluate, load_sets, run_benchmark

__all__ = [
    "BenchResult",
    "Benchmark",
    "EvalReport",
    "EvalSettings",
    "Judgement",
    "Record",
    "all_benchmarks",
    "evaluate",
    "evaluate_in_training",
    "load_sets",
    "register",
    "run_benchmark",
    "select",
]
