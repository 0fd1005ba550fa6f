"""``torchrun -m azr train`` on two gloo ranks with the real default model, then a resume on one rank."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from azr.ledger import Ledger

pytestmark = pytest.mark.model

TORCHRUN = Path(sys.executable).with_name("torchrun")


def _azr(*args: str, ranks: int = 1) -> subprocess.CompletedProcess:
    launcher = [str(TORCHRUN), "--nproc_per_node", str(ranks)] if ranks > 1 else [sys.executable]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200"}
    result = subprocess.run([*launcher, "-m", "azr", "-v", *args], capture_output=True, text=True, env=env,
                            timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_a_run_on_two_ranks_has_its_follower_join_the_update_and_resumes_on_one(tmp_path):
    run_dir = tmp_path / "run"
    first = _azr("train", "--preset", "smoke", "--steps", "1", "--run-dir", str(run_dir), "seed=2", ranks=2)
    output = first.stdout + first.stderr
    assert "rank 1 of 2 joined (gloo" in output
    assert "rank 1 stops after 1 updates" in output
    _azr("train", "--resume", str(run_dir), "--steps", "2")
    with Ledger.open(run_dir, readonly=True) as ledger:
        assert ledger.verify().ok
        assert ledger.last_complete_step() == 2
        assert ledger.counts().get("resume") == 1
