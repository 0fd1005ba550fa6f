"""A control run (``engine.apply_updates=false``) runs every phase of a real run but never moves a weight.

The engine is a real :class:`azr.engine.Engine` around a random-weight stand-in model (see
``_tiny_models.random_weight_engine``); the executor, ledger, buffers and checkpoints are the
real ones. An entropy bonus gives every update a non-zero gradient, so the same run with
updates on does change the weights: that is what makes the control's equality mean something.
"""

from __future__ import annotations

from pathlib import Path

import torch

from _tiny_models import random_weight_engine
from azr.ledger import Ledger
from azr.selfplay.config import load_run_config
from azr.selfplay.run_dir import RunDir
from azr.selfplay.trainer import Trainer


def _run(tmp_path: Path, name: str, apply_updates: bool) -> tuple[dict[str, torch.Tensor], Trainer, RunDir]:
    config = load_run_config(preset="smoke", overrides=[
        "steps=2", "engine.entropy_coef=0.1", "engine.device=cpu", "engine.dtype=float32",
        f"engine.apply_updates={str(apply_updates).lower()}",
    ])
    engine = random_weight_engine(config.engine)
    before = {k: v.detach().clone() for k, v in engine.policy.state_dict().items()}
    run = RunDir.create(tmp_path / name, config)
    trainer = Trainer(config, run, resume=False, engine=engine)
    summary = trainer.train()
    assert summary.last_step == 2
    after = engine.policy.state_dict()
    return {k: after[k] - before[k] for k in before}, trainer, run


def test_control_changes_no_weight_while_a_real_run_does(tmp_path: Path):
    control_delta, _, control_run = _run(tmp_path, "control", apply_updates=False)
    real_delta, _, real_run = _run(tmp_path, "real", apply_updates=True)

    assert all(torch.count_nonzero(d) == 0 for d in control_delta.values())
    assert any(torch.count_nonzero(d) > 0 for d in real_delta.values())

    for run in (control_run, real_run):
        ledger = Ledger.open(run.path, readonly=True)
        try:
            assert ledger.verify().ok
            assert ledger.last_complete_step() == 2
            steps = list(ledger.records(kind="step_metrics"))
            assert len(steps) == 2
            # the control still scored and back-propagated every update
            assert all(r.payload["update/grad_norm"] > 0 for r in steps)
        finally:
            ledger.close()
