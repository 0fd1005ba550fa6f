"""Result files, the compare view, ledger rows for a run's checkpoint, and in-training evaluation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import pytest
from rich.console import Console
from typer.testing import CliRunner

from azr.cli.main import app
from azr.engine.types import Rollout, SamplingParams
from azr.eval.in_training import evaluate_in_training
from azr.eval.ledger_rows import EVAL_KIND, run_of_checkpoint, write_eval_rows
from azr.eval.models import choose_model
from azr.eval.results import BenchResult, EvalReport, compare_table, load_report, save_report
from azr.eval.errors import EvalError
from azr.executor import Executor, ExecutorConfig
from azr.ledger import Ledger

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared benchmark data not found at {DATA}")


def _report(model: str, scores: dict[str, float], step: int | None = None) -> EvalReport:
    benches = {
        name: BenchResult(name, name.upper(), 10, 1, {1: score}, 1.5, 10, limit=10) for name, score in scores.items()
    }
    return EvalReport(model=model, created="2026-01-01T00:00:00Z", benches=benches, step=step)


def _text(renderable: object) -> str:
    console = Console(width=200, record=True)
    console.print(renderable)
    return console.export_text()


def test_result_file_round_trips_and_a_rerun_keeps_other_benchmarks(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    save_report(_report("m", {"gsm8k": 0.25, "cruxeval-o": 0.5}), path)
    loaded = load_report(path)
    assert loaded.benches["gsm8k"].pass_at == {1: 0.25}
    merged = _report("m", {"gsm8k": 0.75}).merged_into(loaded)
    assert merged.benches["gsm8k"].pass1 == 0.75 and merged.benches["cruxeval-o"].pass1 == 0.5
    assert _report("other", {"gsm8k": 0.1}).merged_into(loaded).benches.keys() == {"gsm8k"}


def test_an_unreadable_result_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"hello": 1}))
    with pytest.raises(EvalError, match="not an `azr eval` result file"):
        load_report(bad)


def test_compare_shows_both_scores_and_the_difference() -> None:
    text = _text(compare_table(_report("a", {"gsm8k": 0.25, "mbpp+": 0.5}), _report("b", {"gsm8k": 0.375}), "A", "B"))
    gsm_line = next(line for line in text.splitlines() if "GSM8K" in line)
    assert "25.0" in gsm_line and "37.5" in gsm_line and "+12.5" in gsm_line
    mbpp_line = next(line for line in text.splitlines() if "MBPP+" in line)
    assert "50.0" in mbpp_line and "—" in mbpp_line


def test_cli_compare_prints_the_table(tmp_path: Path) -> None:
    save_report(_report("a", {"gsm8k": 0.2}), tmp_path / "a.json")
    save_report(_report("b", {"gsm8k": 0.3}), tmp_path / "b.json")
    result = CliRunner().invoke(app, ["eval", "--compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")])
    assert result.exit_code == 0, result.output
    assert "+10.0" in result.output


def test_model_choice_needs_exactly_one_source(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match="exactly one"):
        choose_model(None, None)
    with pytest.raises(EvalError, match="exactly one"):
        choose_model("smollm2-135m", tmp_path)
    assert choose_model("smollm2-135m", None).default_output() == Path("eval-results/smollm2-135m.json")


def _fake_run(tmp_path: Path) -> Path:
    """A run directory shaped like the trainer's: run.json, checkpoints/step-N."""
    run = tmp_path / "run"
    (run / "checkpoints" / "step-20").mkdir(parents=True)
    (run / "checkpoints" / "step-20" / "config.json").write_text("{}")
    (run / "run.json").write_text("{}")
    return run


def test_a_run_checkpoint_is_recognised_and_its_results_go_beside_the_run(tmp_path: Path) -> None:
    run = _fake_run(tmp_path)
    checkpoint = run / "checkpoints" / "step-20"
    assert run_of_checkpoint(checkpoint) == (run.resolve(), 20)
    assert run_of_checkpoint(tmp_path) is None
    choice = choose_model(None, checkpoint)
    assert (choice.run_dir, choice.step) == (run.resolve(), 20)
    assert choice.default_output() == run.resolve() / "eval" / "step-20.json"
    (run / "run.json").unlink()
    assert run_of_checkpoint(checkpoint) is None


def test_eval_rows_land_in_the_run_ledger_at_the_checkpoint_step(tmp_path: Path) -> None:
    run = _fake_run(tmp_path)
    with Ledger.open(run) as ledger:
        assert write_eval_rows(ledger, _report("m", {"cruxeval-o": 0.125, "gsm8k": 0.5}, step=20), 20, "azr eval") == 2
    with Ledger.open(run, readonly=True) as ledger:
        rows = list(ledger.records(kind=EVAL_KIND))
    assert sorted((r.step, r.payload["bench"], r.payload["pass@1"]) for r in rows) == [
        (20, "cruxeval-o", 0.125),
        (20, "gsm8k", 0.5),
    ]


class EchoGoldGenerator:
    """A test stand-in for the engine that answers CRUXEval from the data: right on even items only."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[Rollout]:
        from azr.eval.benchmarks.cruxeval import CruxEvalOutput
        rows = [json.loads(line) for line in (DATA / "cruxeval" / "cruxeval.jsonl").read_text().splitlines()]
        out = []
        for index, prompt in enumerate(prompts):
            self.seen.append(prompt)
            position = len(self.seen) - 1
            row = rows[position % 4]
            if "[RETURNS]" in prompt:
                text = f"f({row['input']})" if position % 2 == 0 else "f(0)"
            else:
                text = row["output"] if position % 2 == 0 else "None"
            out.append(Rollout(index, prompt, [], [], [], text + "\n[/ANSWER]", "stop"))
        assert params.temperature == 0.0 and CruxEvalOutput.stop[0] in params.stop
        return out


@needs_data
def test_in_training_evaluation_scores_a_fixed_subset_and_writes_rows(tmp_path: Path) -> None:
    run = _fake_run(tmp_path)
    generator = EchoGoldGenerator()
    with Executor(ExecutorConfig(workers=1, seed_slots=1)) as runner, Ledger.open(run) as ledger:
        scores = evaluate_in_training(generator, runner, DATA, limit=4, step=7, ledger=ledger)
    assert scores == {"cruxeval-o": 0.5, "cruxeval-o/n": 4.0, "cruxeval-i": 0.5, "cruxeval-i/n": 4.0}
    assert len(generator.seen) == 8
    with Ledger.open(run, readonly=True) as ledger:
        rows = list(ledger.records(kind=EVAL_KIND))
    assert {(r.step, r.payload["bench"], r.payload["source"]) for r in rows} == {
        (7, "cruxeval-o", "in-training"),
        (7, "cruxeval-i", "in-training"),
    }
