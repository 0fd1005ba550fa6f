"""The real loop on the real default model: a `smoke` run, an interruption and a resume.

One run is shared by the tests of this module (module-scoped fixture) because each step
generates and trains on CPU.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from azr.ledger import Ledger
from azr.selfplay.config import load_run_config
from azr.selfplay.trainer import Trainer

pytestmark = pytest.mark.model

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"
EVAL = ["eval.every_n_steps=2", "eval.limit=2", f"eval.data_dir={DATA}"] if DATA.is_dir() else []


@pytest.fixture(scope="module")
def interrupted_then_resumed(tmp_path_factory):
    """Run step 1, stop it with SIGINT as a user would, then resume to the end."""
    run_dir = tmp_path_factory.mktemp("smoke") / "run"
    config = load_run_config(preset="smoke", overrides=["steps=2", "seed=1", *EVAL])
    trainer = Trainer.new(config, run_dir)

    def interrupt_after_first_step(outcome):
        os.kill(os.getpid(), signal.SIGINT)

    first = trainer.train(interrupt_after_first_step)
    second = Trainer.resume_from(run_dir).train()
    return run_dir, first, second


def test_sigint_finishes_the_step_and_saves(interrupted_then_resumed):
    run_dir, first, _ = interrupted_then_resumed
    assert first.interrupted
    assert first.last_step == 1
    assert (run_dir / "checkpoints" / "step-1" / "azr_state.json").is_file()


def test_resume_continues_at_the_next_step(interrupted_then_resumed):
    _, _, second = interrupted_then_resumed
    assert not second.interrupted
    assert (second.first_step, second.last_step) == (2, 2)


def test_ledger_holds_every_proposal_and_attempt_and_verifies(interrupted_then_resumed):
    run_dir, first, second = interrupted_then_resumed
    ledger = Ledger.open(run_dir, readonly=True)
    try:
        assert ledger.verify().ok
        assert ledger.last_complete_step() == 2
        config = load_run_config(preset="smoke")
        per_step = config.selfplay.proposals_per_type * len(config.selfplay.task_types)
        for step in (1, 2):
            proposals = list(ledger.records(kind="proposal", since_step=step, until_step=step))
            # induction may skip a request when no base program exists yet; the others never do
            assert per_step - config.selfplay.proposals_per_type <= len(proposals) <= per_step
            assert all(p.payload["completion"] is not None for p in proposals)
            attempts = list(ledger.records(kind="attempt", since_step=step, until_step=step))
            valid = [p for p in proposals if p.payload["valid"]]
            learnability = [a for a in attempts if a.payload["purpose"] == "learnability"]
            assert len(learnability) == len(valid) * config.selfplay.learnability_rollouts
            metrics = list(ledger.records(kind="step_metrics", since_step=step, until_step=step))
            assert len(metrics) == 1
            # sampling stops at the answer's close: nothing the parser ignores is generated or trained on
            for record in [*proposals, *attempts]:
                after_close = record.payload["completion"].partition("</answer>")[2]
                assert after_close == "", record.payload["completion"]
        kinds = ledger.counts()
        assert kinds.get("run_start") == 1 and kinds.get("resume") == 1
        assert kinds.get("checkpoint", 0) >= 2
    finally:
        ledger.close()


def test_buffers_grew_or_the_ledger_says_why(interrupted_then_resumed):
    run_dir, _, second = interrupted_then_resumed
    ledger = Ledger.open(run_dir, readonly=True)
    try:
        proposals = list(ledger.records(kind="proposal"))
        added = list(ledger.records(kind="task"))
        if not added:
            assert all(not p.payload["valid"] and p.payload["reason"] for p in proposals)
        else:
            # every task a buffer holds came in through a ledger "task" record (seed, seeding or
            # proposal) and the smoke buffers never reach capacity, so the two counts agree
            for name in ("deduction", "abduction", "induction"):
                recorded = sum(1 for t in added if t.payload["task"]["task_type"] == name)
                assert second.history[-1][f"buffer/{name}"] == recorded, name
    finally:
        ledger.close()


@pytest.mark.skipif(not EVAL, reason=f"shared benchmark data not found at {DATA}")
def test_in_training_eval_rows_land_in_the_ledger_at_step_0_and_their_step(interrupted_then_resumed):
    run_dir, _, second = interrupted_then_resumed
    ledger = Ledger.open(run_dir, readonly=True)
    try:
        rows = list(ledger.records(kind="eval"))
    finally:
        ledger.close()
    # the base model is scored before step 1 (step 0), then at every eval step (2)
    seen = {(r.step, r.payload.get("bench")) for r in rows}
    assert seen == {(s, b) for s in (0, 2) for b in ("cruxeval-o", "cruxeval-i")}
    assert "eval/cruxeval-o" in second.history[-1]
