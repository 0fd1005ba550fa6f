"""A short real evaluation: the packaged default model on CRUXEval-O, then a resume that computes nothing."""

from __future__ import annotations

import json
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
