"""The evaluation loop with a scripted stand-in generator (no model): scores, pass@k, cache and resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import pytest

from azr.engine.types import Rollout, SamplingParams
from azr.eval.benchmarks.base import Record
from azr.eval.benchmarks.math import Math500
from azr.eval.cache import ItemCache
from azr.eval.runner import EvalSettings, cut_at_stop, run_benchmark


class ScriptedGenerator:
    """A test stand-in for the engine: answers each problem from a fixed table, n times."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.calls: list[tuple[list[str], SamplingParams]] = []

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[Rollout]:
        self.calls.append((list(prompts), params))
        rollouts = []
        for index, prompt in enumerate(prompts):
            problem = prompt.split("Problem: ")[-1].split("\n")[0]
            for k in range(params.n):
                text = self.answers[problem][k % len(self.answers[problem])]
                rollouts.append(Rollout(index, prompt, [], [], [], text, "stop"))
        return rollouts


class NoRunner:
    def run_batch(self, snippets):  # noqa: ANN001, ANN201
        raise AssertionError("math judging ran code")


RECORDS = [Record(f"p{i}", {"problem": f"what is {i} + {i}?", "gold": f"${2 * i}$"}) for i in range(5)]
RIGHT = {f"what is {i} + {i}?": [f"It is \\boxed{{{2 * i}}}."] for i in range(5)}


def test_greedy_run_scores_each_item_and_asks_for_temperature_zero() -> None:
    answers = dict(RIGHT, **{"what is 1 + 1?": ["\\boxed{3}"]})
    generator = ScriptedGenerator(answers)
    result = run_benchmark(Math500(), RECORDS, generator, NoRunner(), EvalSettings(batch_size=2), "test-model")
    assert result.pass_at == {1: pytest.approx(0.8)}
    assert result.n_items == 5 and result.computed == 5
    assert [len(prompts) for prompts, _ in generator.calls] == [2, 2, 1]
    params = generator.calls[0][1]
    assert params.temperature == 0.0 and params.n == 1 and "\nProblem:" in params.stop


def test_sampled_run_reports_unbiased_pass_at_k() -> None:
    # Item 0 right in 1 of 4 samples, the others never: pass@1 = 0.25/5, pass@4 = 1/5.
    answers = {key: ["\\boxed{-1}"] for key in RIGHT}
    answers["what is 0 + 0?"] = ["\\boxed{0}", "\\boxed{7}", "\\boxed{7}", "\\boxed{7}"]
    settings = EvalSettings(samples=4, temperature=0.7, batch_size=8)
    generator = ScriptedGenerator(answers)
    result = run_benchmark(Math500(), RECORDS, generator, NoRunner(), settings, "test-model")
    assert result.pass_at[1] == pytest.approx(0.05)
    assert result.pass_at[4] == pytest.approx(0.2)
    assert generator.calls[0][1].temperature == 0.7


def test_an_interrupted_run_resumes_from_the_cache_without_regenerating(tmp_path: Path) -> None:
    cache_path = tmp_path / "results.items.jsonl"
    first = ScriptedGenerator(RIGHT)
    run_benchmark(Math500(), RECORDS[:3], first, NoRunner(), EvalSettings(batch_size=2), "m", ItemCache(cache_path))
    # Simulate an interrupt that cut the last line off mid-write.
    with cache_path.open("a") as handle:
        handle.write('{"key": "abc", "bench": "math')
    second = ScriptedGenerator(RIGHT)
    result = run_benchmark(Math500(), RECORDS, second, NoRunner(), EvalSettings(batch_size=2), "m", ItemCache(cache_path))
    assert result.computed == 2 and result.pass1 == 1.0
    assert sum(len(prompts) for prompts, _ in second.calls) == 2
    rows = [json.loads(line) for line in cache_path.read_text().splitlines() if line.startswith('{"key": "') and line.endswith("}")]
    assert sorted(row["item"] for row in rows) == ["p0", "p1", "p2", "p3", "p4"]
    # The reported time covers cached items too: it is the sum of every item's share.
    assert all(row["seconds"] > 0 for row in rows)
    assert result.seconds == pytest.approx(sum(row["seconds"] for row in rows))


def test_a_different_model_or_setting_does_not_reuse_cached_items(tmp_path: Path) -> None:
    cache = ItemCache(tmp_path / "c.jsonl")
    run_benchmark(Math500(), RECORDS, ScriptedGenerator(RIGHT), NoRunner(), EvalSettings(), "m1", cache)
    other_model = ScriptedGenerator(RIGHT)
    run_benchmark(Math500(), RECORDS, other_model, NoRunner(), EvalSettings(), "m2", cache)
    longer = ScriptedGenerator(RIGHT)
    run_benchmark(Math500(), RECORDS, longer, NoRunner(), EvalSettings(max_new_tokens=64), "m1", cache)
    assert other_model.calls and longer.calls


def test_completions_are_cut_at_the_first_stop_string() -> None:
    assert cut_at_stop("x = 1\nProblem: next", ("\nProblem:", "\n\n")) == "x = 1"
    assert cut_at_stop("no stop here", ("\nProblem:",)) == "no stop here"


def test_evaluate_reports_every_set_under_its_name() -> None:
    from azr.eval.benchmarks.math import GSM8K
    from azr.eval.runner import evaluate

    sets = [(Math500(), RECORDS[:2]), (GSM8K(), RECORDS[2:])]
    report = evaluate(sets, ScriptedGenerator(RIGHT), NoRunner(), EvalSettings(), "m", step=3)
    assert {name: (r.n_items, r.pass1) for name, r in report.benches.items()} == {"math500": (2, 1.0), "gsm8k": (3, 1.0)}
    assert report.step == 3
