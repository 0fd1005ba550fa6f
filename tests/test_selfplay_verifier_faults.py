"""Verifier-alignment studies: faults injected into training verdicts, never into the probes."""

from __future__ import annotations

from pathlib import Path

import pytest

from _stub_engine import StubEngine
from azr.config import ConfigError
from azr.ledger import Ledger
from azr.selfplay.config import load_run_config
from azr.selfplay.run_dir import RunDir
from azr.selfplay.trainer import Trainer
from azr.selfplay.verifier_faults import VerifierFaults, VerifierFaultsConfig
from azr.tasks.base import ParsedAnswer, Verdict
from azr.tasks.triplet import IOPair, Task


def _task(k: int) -> Task:
    return Task("deduction", f"def f(x):\n    return x + {k}", (IOPair(input="1", output=str(1 + k)),))


def _answer(value: str) -> ParsedAnswer:
    return ParsedAnswer(malformed=False, reason="", value=value)


WRONG = Verdict(False, False, "output differs", -0.5)
RIGHT = Verdict(True, False, "output matches", 1.0)


def test_faults_hit_their_share_of_verdicts_and_say_so():
    faults = VerifierFaults(VerifierFaultsConfig(false_accept=0.2, false_reject=0.5))
    accepted = [faults.judge(_task(k), _answer("0"), WRONG) for k in range(2000)]
    rejected = [faults.judge(_task(k), _answer(str(1 + k)), RIGHT) for k in range(2000)]
    share_accepted = sum(fault == "false_accept" for _, fault in accepted) / 2000
    share_rejected = sum(fault == "false_reject" for _, fault in rejected) / 2000
    assert 0.17 < share_accepted < 0.23 and 0.46 < share_rejected < 0.54
    for verdict, fault in accepted:
        assert verdict.correct == (fault == "false_accept")
        assert verdict.reward == (1.0 if fault else -0.5)
        if fault:
            assert verdict.reason == "injected false accept (honest: output differs)"


def test_the_same_answer_always_gets_the_same_verdict_and_malformed_stays_malformed():
    faults = VerifierFaults(VerifierFaultsConfig(false_accept=0.5))
    first = [faults.judge(_task(k), _answer("0"), WRONG)[1] for k in range(50)]
    assert first == [faults.judge(_task(k), _answer("0"), WRONG)[1] for k in range(50)]
    other_seed = VerifierFaults(VerifierFaultsConfig(false_accept=0.5, seed=1))
    assert first != [other_seed.judge(_task(k), _answer("0"), WRONG)[1] for k in range(50)]
    malformed = Verdict(False, True, "no answer", -1.0)
    all_faults = VerifierFaults(VerifierFaultsConfig(false_accept=1.0))
    assert all_faults.judge(_task(0), ParsedAnswer(True, "no answer", None), malformed) == (malformed, None)


def test_rates_outside_the_unit_interval_are_refused():
    with pytest.raises(ConfigError, match="false_accept"):
        load_run_config(preset="smoke", overrides=["selfplay.verifier_faults.false_accept=1.5"])


def test_a_run_with_every_wrong_answer_accepted_records_the_honest_verdict(tmp_path: Path):
    """Stub engine (scripted completions): its answers are mostly wrong, so false accepts must appear."""
    config = load_run_config(preset="smoke", overrides=["steps=2", "selfplay.verifier_faults.false_accept=1.0"])
    run = RunDir.create(tmp_path / "run", config)
    assert Trainer(config, run, resume=False, engine=StubEngine()).train().last_step == 2
    with Ledger.open(run.path, readonly=True) as ledger:
        attempts = [r.payload for r in ledger.records(kind="attempt")]
        metrics = [r.payload for r in ledger.records(kind="step_metrics")]
    judged = [a for a in attempts if a["purpose"] in ("train", "learnability")]
    assert judged and all("fault" in a for a in judged)
    faked = [a for a in judged if a["fault"] == "false_accept"]
    assert faked, "the stub's wrong answers must have been accepted"
    assert all(a["correct"] and not a["honest_correct"] and a["reward"] == 1.0 for a in faked)
    assert all(a["correct"] or a["malformed"] for a in judged), "no well-formed answer may be judged wrong"
    assert all("fault" not in a for a in attempts if a["purpose"] not in ("train", "learnability"))
    assert sum(m["verifier/false_accepts"] for m in metrics) == len(faked)
