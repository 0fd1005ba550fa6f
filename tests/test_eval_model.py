"""A short real evaluation: the packaged default model on CRUXEval-O, then a resume that computes nothing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from azr.cli.main import app

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"


@pytest.mark.model
@pytest.mark.skipif(not DATA.is_dir(), reason=f"shared benchmark data not found at {DATA}")
def test_default_model_on_cruxeval_o_writes_results_and_resumes(tmp_path: Path) -> None:
    output = tmp_path / "smollm2.json"
    args = ["eval", "--model", "smollm2-135m", "--bench", "cruxeval-o", "--data-dir", str(DATA),
            "--limit", "4", "--batch-size", "4", "--output", str(output)]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    bench = json.loads(output.read_text())["benches"]["cruxeval-o"]
    assert bench["n_items"] == 4 and bench["computed"] == 4 and 0.0 <= bench["pass_at"]["1"] <= 1.0
    items = [json.loads(line) for line in (tmp_path / "smollm2.items.jsonl").read_text().splitlines()]
    assert len(items) == 4 and all(len(item["completions"]) == 1 for item in items)
    assert all(item["completions"][0].strip() for item in items), "the model produced empty completions"

    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert json.loads(output.read_text())["benches"]["cruxeval-o"]["computed"] == 0


@pytest.mark.model
@pytest.mark.skipif(not DATA.is_dir(), reason=f"shared benchmark data not found at {DATA}")
def test_sigterm_stops_like_ctrl_c_and_keeps_finished_items(tmp_path: Path) -> None:
    output = tmp_path / "smollm2.json"
    cache = tmp_path / "smollm2.items.jsonl"
    args = ["eval", "--model", "smollm2-135m", "--bench", "cruxeval-o", "--data-dir", str(DATA),
            "--batch-size", "2", "--output", str(output)]
    proc = subprocess.Popen([sys.executable, "-c", "from azr.cli.main import run; run()", *args, "--limit", "40"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 240
    while not (cache.exists() and len(cache.read_text().splitlines()) >= 2):
        assert proc.poll() is None and time.monotonic() < deadline, "no finished batch before the deadline"
        time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "interrupted" in out, out
    kept = len(cache.read_text().splitlines())
    assert 2 <= kept < 40

    resumed = CliRunner().invoke(app, [*args, "--limit", "2"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(output.read_text())["benches"]["cruxeval-o"]["computed"] == 0
