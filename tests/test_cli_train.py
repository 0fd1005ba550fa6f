"""What ``azr train`` prints, as a user reads it: closing totals, next commands, finished runs.

The stub engine (tests/_stub_engine.py, no model) stands in for the real one, so these runs
take seconds; the executor, the ledger and the metrics file are real. The one test marked
``model`` runs the real default model and looks for library noise in the terminal output.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from _stub_engine import StubEngine
from typer.testing import CliRunner

from azr.cli.console import console
from azr.cli.main import app
from azr.hf_progress import no_progress_bars
from azr.ledger import Ledger
from azr.selfplay import trainer as trainer_module

runner = CliRunner()
TYPES = ("deduction", "abduction", "induction")


@pytest.fixture
def stub_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stub engine in the trainer, and a console wide enough that no line of the output wraps."""
    monkeypatch.setattr(trainer_module, "Engine", StubEngine)
    monkeypatch.setattr(console, "width", 200)


def _train(*args: str) -> str:
    result = runner.invoke(app, ["train", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def _row(output: str, task_type: str) -> tuple[int, int]:
    """(proposed, kept) from the closing table's row for ``task_type``."""
    match = re.search(rf"^\s*{task_type}\s+(\d+)\s+(\d+) \(", output, re.MULTILINE)
    assert match, output
    return int(match.group(1)), int(match.group(2))


def _ledger_counts(run_dir: Path, task_type: str) -> tuple[int, int]:
    with Ledger.open(run_dir, readonly=True) as ledger:
        proposals = [r.payload for r in ledger.records(kind="proposal", since_step=1)
                     if r.payload["task_type"] == task_type]
    return len(proposals), sum(p["valid"] for p in proposals)


def test_a_run_ends_with_its_totals_where_its_records_are_and_what_to_run_next(stub_engine, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    output = _train("--preset", "smoke", "--steps", "3", "--run-dir", str(run_dir))
    assert "done: ran 3 steps of 3" in output
    assert "tasks over the run's 3 steps" in output
    for task_type in TYPES:
        assert _row(output, task_type) == _ledger_counts(run_dir, task_type)
    assert f"azr report {run_dir}" in output
    assert f"azr train --resume {run_dir} --steps 6" in output
    assert str(run_dir / "ledger.sqlite") in output
    assert output.count("step 3/3:") == 1
    # no raw metric table; no bar from the oversight's sentence model loading
    assert "time/other_fraction" not in output and "summary: steps" not in output
    assert "Loading weights" not in output


def test_resume_of_a_finished_run_says_so_without_loading_a_model(
    stub_engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / "run"
    _train("--preset", "smoke", "--steps", "2", "--run-dir", str(run_dir))

    def no_model(*_args: object) -> None:
        raise AssertionError("a finished run loaded its model")

    monkeypatch.setattr(StubEngine, "from_checkpoint", classmethod(no_model))
    output = _train("--resume", str(run_dir))
    assert "run already finished 2 steps" in output
    assert f"azr train --resume {run_dir} --steps 4" in output
    assert "tasks over the run's 2 steps" in output
    assert "summary: steps" not in output


def test_resume_with_a_larger_total_continues_and_keeps_it(stub_engine, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    _train("--preset", "smoke", "--steps", "2", "--run-dir", str(run_dir))
    output = _train("--resume", str(run_dir), "--steps", "4")
    assert "done: ran steps 3-4 of 4" in output
    assert "tasks over the run's 4 steps" in output
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["steps"] == 4
    with Ledger.open(run_dir, readonly=True) as ledger:
        assert ledger.last_complete_step() == 4
        assert [r.payload["steps"] for r in ledger.records(kind="resume")] == [4]
    assert "run already finished 4 steps" in _train("--resume", str(run_dir))


def test_local_saves_and_loads_show_no_bars_and_leave_them_as_they_were(capfd: pytest.CaptureFixture[str],
                                                                         tmp_path: Path) -> None:
    from _tiny_models import tiny_llama
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    with no_progress_bars():
        tiny_llama().save_pretrained(tmp_path)
        AutoModelForCausalLM.from_pretrained(tmp_path)
    assert "Loading weights" not in capfd.readouterr().err
    assert hf_logging.is_progress_bar_enabled()
    AutoModelForCausalLM.from_pretrained(tmp_path)
    assert "Loading weights" in capfd.readouterr().err  # the bar this silences, shown outside the block


def test_the_gguf_converters_own_bar_is_silenced_too(capfd: pytest.CaptureFixture[str]) -> None:
    from transformers import modeling_gguf_pytorch_utils as gguf_loader

    with no_progress_bars():
        list(gguf_loader.tqdm(range(3), desc="Converting and de-quantizing GGUF tensors..."))
    assert "Converting" not in capfd.readouterr().err
    list(gguf_loader.tqdm(range(3), desc="Converting and de-quantizing GGUF tensors..."))
    assert "Converting" in capfd.readouterr().err


@pytest.mark.model
def test_a_real_run_prints_no_library_noise(tmp_path: Path) -> None:
    """Checkpoints are written and, on resume, read: neither shows transformers' bars or a warning."""
    run_dir = tmp_path / "run"
    cli = [sys.executable, "-c", "from azr.cli.main import run; run()", "train"]
    outputs = []
    for args in (["--preset", "smoke", "--steps", "1", "--run-dir", str(run_dir)],
                 ["--resume", str(run_dir), "--steps", "2"]):
        done = subprocess.run([*cli, *args], check=False, capture_output=True, text=True, timeout=900,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
        assert done.returncode == 0, done.stderr[-3000:]
        outputs.append(done.stdout + done.stderr)
    for output in outputs:
        for noise in ("Loading weights", "Writing model shards", "Warning", "it/s]"):
            assert noise not in output, output
    assert "done: ran step 2 of 2" in outputs[1]
