"""The evaluation loop: prompts in batches through the model, answers through the judge, scores out.

Finished items go to the per-item cache after every batch, so stopping (Ctrl-C, a crash,
a lost machine) costs at most one batch; the next run with the same settings picks up
where this one stopped.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Protocol, Sequence

from pydantic import Field
from rich.progress import Progress

from azr.config import StrictModel
from azr.engine.types import Rollout, SamplingParams
from azr.eval.benchmarks.base import Benchmark, Record
from azr.eval.cache import ItemCache, ItemResult, item_key
from azr.eval.passk import mean_pass_at_k, report_ks
from azr.eval.results import BenchResult, EvalReport, now_utc
from azr.executor.types import SnippetRunner


BenchSet = tuple[Benchmark, Sequence[Record]]


class Generator(Protocol):
    """What evaluation needs of an engine: completions for a batch of prompts."""

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[Rollout]: ...


class EvalSettings(StrictModel):
    """How to evaluate. ``samples`` 1 means greedy decoding and pass@1; more means sampling and pass@k."""

    limit: int | None = Field(None, ge=1, description="evaluate only the first N items of each benchmark")
    samples: int = Field(1, ge=1, description="completions per item; 1 = greedy")
    temperature: float = Field(0.8, gt=0, description="sampling temperature when samples > 1")
    top_p: float = Field(0.95, gt=0, le=1)
    max_new_tokens: int | None = Field(None, ge=1, description="None = each benchmark's own budget")
    batch_size: int = Field(8, ge=1, description="prompts per generate call (and per cache flush)")
    seed: int = 0


def uses_chat_template(generator: Generator) -> bool:
    """Whether the engine wraps prompts in its chat template (see :class:`azr.engine.prompting.PromptFormatter`)."""
    return bool(getattr(getattr(generator, "formatter", None), "use_chat_template", False))


def sampling_for(bench: Benchmark, settings: EvalSettings, chat: bool = False) -> SamplingParams:
    """Greedy (temperature 0) for one sample, else the configured temperature and top-p."""
    greedy = settings.samples == 1
    return SamplingParams(
        temperature=0.0 if greedy else settings.temperature,
        top_p=1.0 if greedy else settings.top_p,
        max_new_tokens=settings.max_new_tokens or bench.max_new_tokens,
        stop=bench.stops(chat),
        n=settings.samples,
        seed=settings.seed,
    )


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """The completion up to its first stop string (engines may leave the stop text in)."""
    cut = len(text)
    for marker in stop:
        found = text.find(marker)
        if found != -1:
            cut = min(cut, found)
    return text[:cut]


def _completions(rollouts: Sequence[Rollout], n_prompts: int, stop: Sequence[str]) -> list[list[str]]:
    grouped: dict[int, list[str]] = defaultdict(list)
    for rollout in rollouts:
        grouped[rollout.prompt_index].append(cut_at_stop(rollout.text, stop))
    return [grouped[i] for i in range(n_prompts)]


def run_benchmark(
    bench: Benchmark,
    records: Sequence[Record],
    generator: Generator,
    runner: SnippetRunner,
    settings: EvalSettings,
    model_id: str,
    cache: ItemCache | None = None,
    progress: Progress | None = None,
) -> BenchResult:
    """Evaluate ``records`` of one benchmark, reusing cached items; returns its scores."""
    chat = uses_chat_template(generator)
    params = sampling_for(bench, settings, chat)
    sampling = {
        "chat_template": chat,
        "temperature": params.temperature,
        "top_p": params.top_p,
        "max_new_tokens": params.max_new_tokens,
        "n": params.n,
        "seed": params.seed,
    }
    prompts = [bench.prompt(record) for record in records]
    keys = [item_key(model_id, bench.name, r.id, p, sampling) for r, p in zip(records, prompts)]
    results: dict[str, ItemResult] = {}
    if cache is not None:
        results = {key: hit for key in keys if (hit := cache.get(key)) is not None}
    pending = [i for i, key in enumerate(keys) if key not in results]
    task = progress.add_task(bench.title, total=len(records), completed=len(records) - len(pending)) if progress else None
    for start in range(0, len(pending), settings.batch_size):
        batch = pending[start : start + settings.batch_size]
        started = time.perf_counter()
        rollouts = generator.generate([prompts[i] for i in batch], params)
        per_prompt = _completions(rollouts, len(batch), params.stop)
        flat_records = [records[i] for i, texts in zip(batch, per_prompt) for _ in texts]
        flat_texts = [text for texts in per_prompt for text in texts]
        judgements = iter(bench.judge(flat_records, flat_texts, runner))
        share = (time.perf_counter() - started) / len(batch)
        for i, texts in zip(batch, per_prompt):
            verdicts = [next(judgements) for _ in texts]
            item = ItemResult(
                bench=bench.name,
                item=records[i].id,
                completions=texts,
                answers=[v.answer for v in verdicts],
                correct=[v.correct for v in verdicts],
                reasons=[v.reason for v in verdicts],
                seconds=share,
            )
            results[keys[i]] = item
            if cache is not None:
                cache.put(keys[i], item)
        if progress is not None and task is not None:
            progress.advance(task, len(batch))
    counts = [(len(results[key].correct), results[key].n_correct) for key in keys]
    return BenchResult(
        name=bench.name,
        title=bench.title,
        n_items=len(records),
        samples=settings.samples,
        pass_at={k: mean_pass_at_k(counts, k) for k in report_ks(settings.samples)},
        seconds=sum(results[key].seconds for key in keys),
        computed=len(pending),
        limit=settings.limit,
        sampling=sampling,
    )


def load_sets(benches: Sequence[Benchmark], data_dir: Path | None, limit: int | None) -> list[BenchSet]:
    """Each benchmark with its first ``limit`` records; run before loading a model so missing data fails fast."""
    return [(bench, bench.load(data_dir)[:limit]) for bench in benches]


def evaluate(
    sets: Sequence[BenchSet],
    generator: Generator,
    runner: SnippetRunner,
    settings: EvalSettings,
    model_id: str,
    cache: ItemCache | None = None,
    progress: Progress | None = None,
    step: int | None = None,
) -> EvalReport:
    """Evaluate each (benchmark, records) set in turn."""
    report = EvalReport(model=model_id, created=now_utc(), benches={}, step=step)
    for bench, records in sets:
        report.benches[bench.name] = run_benchmark(bench, records, generator, runner, settings, model_id, cache, progress)
    return report
