"""``azr eval``: score a model or a run's checkpoint on benchmarks, or compare two result files."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from azr.cli.console import console
from azr.errors import AzrError
from azr.eval.benchmarks import select
from azr.eval.cache import ItemCache
from azr.eval.data import resolve_data_dir
from azr.eval.errors import EvalError
from azr.eval.ledger_rows import write_eval_rows
from azr.eval.models import ModelChoice, choose_model, load_engine
from azr.eval.results import EvalReport, compare_table, load_report, report_table, save_report
from azr.eval.runner import BenchSet, EvalSettings, evaluate, load_sets

# Code benchmarks run the reference and the candidate on up to ~1,000 inputs in one child:
# give children more CPU time and memory than self-play's small programs need.
_EXECUTOR_SETTINGS = {"cpu_time_s": 120, "memory_mb": 4096}


def eval_command(
    model: str | None = typer.Option(None, "--model", "-m", help="Model: short name (smollm2-135m), directory, .gguf or hub id."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="A saved model; RUN_DIR/checkpoints/step-N also gets ledger rows."),
    bench: str = typer.Option("cruxeval", "--bench", "-b", help="Comma-separated benchmarks or families (cruxeval, code, math, all)."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Benchmark data directory (default: $AZR_DATA_DIR, else the hub)."),
    limit: int | None = typer.Option(None, "--limit", "-n", min=1, help="Only the first N items of each benchmark."),
    samples: int = typer.Option(1, "--samples", "-k", min=1, help="Completions per item: 1 = greedy pass@1; K = sampled pass@k."),
    temperature: float = typer.Option(0.8, "--temperature", help="Sampling temperature when --samples > 1."),
    max_new_tokens: int | None = typer.Option(None, "--max-new-tokens", min=1, help="Token budget (default: per benchmark)."),
    batch_size: int | None = typer.Option(
        None, "--batch-size", min=1, help="Prompts per generate call (default 8 on a CPU, 64 on a GPU)."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Result JSON (default: RUN_DIR/eval/step-N.json or eval-results/MODEL.json)."),
    chat_template: str = typer.Option(
        "off", "--chat-template", help="off: prompts as plain text to continue; auto/on: as a user message in the model's chat template."
    ),
    dtype: str = typer.Option("auto", "--dtype", help="auto, float32 or bfloat16."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, ..."),
    rollout: str = typer.Option(
        "transformers", "--rollout", help="What generates: transformers, or vllm (needs pip install 'azr[vllm]')."
    ),
    ledger: bool = typer.Option(True, "--ledger/--no-ledger", help="Write 'eval' rows to the run's ledger for a run checkpoint."),
    compare: tuple[Path, Path] | None = typer.Option(None, "--compare", help="Show two result JSON files A B side by side and exit."),
) -> None:
    """Evaluate on CRUXEval, HumanEval+/MBPP+ and math sets; resumes from the per-item cache."""
    out = Console()
    if compare is not None:
        first, second = (load_report(path) for path in compare)
        out.print(compare_table(first, second, f"{first.model} ({compare[0]})", f"{second.model} ({compare[1]})"))
        return
    choice = choose_model(model, checkpoint)
    sets = load_sets(select(bench), resolve_data_dir(data_dir), limit)
    settings = EvalSettings(limit=limit, samples=samples, temperature=temperature, max_new_tokens=max_new_tokens)
    result_path = output or choice.default_output()
    engine_options = {"chat_template": chat_template, "dtype": dtype, "device": device, "rollout": rollout}
    report = _run(choice, sets, settings, batch_size, result_path, engine_options)
    previous = load_report(result_path) if result_path.exists() else None
    save_report(report.merged_into(previous), result_path)
    out.print(report_table(report))
    console.print(f"results: {result_path} (items: {_cache_path(result_path)})")
    if ledger and choice.run_dir is not None:
        _ledger_rows(choice, report)


def _cache_path(result_path: Path) -> Path:
    return result_path.with_name(result_path.stem + ".items.jsonl")


def _run(
    choice: ModelChoice,
    sets: list[BenchSet],
    settings: EvalSettings,
    batch_size: int | None,
    result_path: Path,
    engine_options: dict[str, str],
) -> EvalReport:
    from azr.executor import Executor, ExecutorConfig

    console.print(f"loading {choice.label} ...")
    engine = load_engine(choice, engine_options)
    # A GPU finishes a batch of 64 about as fast as one of 8; a CPU's time grows with the batch.
    settings = settings.model_copy(update={"batch_size": batch_size or (64 if engine.device.type == "cuda" else 8)})
    cache = ItemCache(_cache_path(result_path))
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Executor(ExecutorConfig(**_EXECUTOR_SETTINGS)) as runner, Progress(*columns, console=console) as progress:
        try:
            with _sigterm_as_interrupt():
                report = evaluate(sets, engine, runner, settings, choice.key, cache, progress, choice.step)
        except KeyboardInterrupt:
            raise EvalError(f"interrupted; {len(cache)} finished items are kept in {cache.path}: run the same command to resume") from None
    report.model = choice.label
    return report


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """``timeout``, batch schedulers and ``kill`` send SIGTERM: stop as Ctrl-C does, keeping finished items."""

    def _interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _ledger_rows(choice: ModelChoice, report: EvalReport) -> None:
    from azr.ledger import Ledger

    assert choice.run_dir is not None
    try:
        with Ledger.open(choice.run_dir) as run_ledger:
            count = write_eval_rows(run_ledger, report, step=choice.step, source="azr eval")
    except AzrError as exc:
        console.print(
            f"[yellow]warning:[/] no ledger rows written ({exc}); the scores are in the result file. "
            "If training still holds the ledger, run again after it stops."
        )
        return
    console.print(f"ledger: {count} 'eval' row(s) at step {choice.step} in {choice.run_dir}")
