"""Value shaping: a reward as a weighted sum of named terms, each recorded in the ledger."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import LlamaConfig, LlamaForSequenceClassification

from _stub_engine import StubEngine
from _tiny_models import random_weight_engine
from azr.config import ConfigError
from azr.ledger import Ledger
from azr.selfplay.config import load_run_config
from azr.selfplay.reward_mix import PROPOSE, SOLVE, Graded, RewardMix, RewardMixConfig
from azr.selfplay.run_dir import RunDir
from azr.selfplay.trainer import Trainer


def _solve(reasoning: str, answer: str | None, task_reward: float = 1.0) -> Graded:
    return Graded(SOLVE, "prompt ", f"<think>{reasoning}</think><answer>{answer}</answer>", reasoning,
                  (answer,) if answer else (), task_reward)


def test_default_mix_is_the_task_reward_alone():
    items = [_solve("so f(3) is 4", "4", 1.0), _solve("", None, -1.0),
             Graded(PROPOSE, "p", "c", "", ("1",), -0.5)]
    scored = RewardMix(RewardMixConfig()).score(items)
    assert scored == [(1.0, {"correctness": 1.0}), (-1.0, {"correctness": -1.0}), (-0.5, {"learnability": -0.5})]


def test_explainability_pays_reasoning_that_states_the_answer_whitespace_aside():
    mix = RewardMix(RewardMixConfig(solve={"explainability": 0.5}))
    stated, silent, none = mix.score([
        _solve("f adds one to each, giving [2,3]", "[2, 3]", -0.5),
        _solve("f adds one to each element", "[2, 3]", -0.5),
        _solve("", None, -1.0),
    ])
    assert stated == (pytest.approx(-0.5 + 0.5), {"correctness": -0.5, "explainability": 1.0})
    assert silent == (-0.5, {"correctness": -0.5, "explainability": 0.0})
    assert none == (-1.0, {"correctness": -1.0, "explainability": 0.0})


def test_proposer_explainability_is_the_share_of_inputs_its_reasoning_states():
    mix = RewardMix(RewardMixConfig(propose={"explainability": 1.0, "learnability": 0.0}))
    [(total, terms)] = mix.score([Graded(PROPOSE, "p", "c", "try f(3) first", ("3", "'abc'"), 0.75)])
    assert terms == {"explainability": 0.5} and total == 0.5


@pytest.mark.parametrize("override, message", [
    ("selfplay.rewards.solve.elegance=1", "unknown term 'elegance'; solve terms are"),
    ("selfplay.rewards.propose.correctness=1", "unknown term 'correctness'; propose terms are"),
    ("selfplay.rewards.solve.correctness=0", "at least one term needs a non-zero weight"),
    ("selfplay.rewards.solve.preference=0.2", "preference_model is unset"),
    ("selfplay.rewards.solve.explainability=.nan", "weight must be finite"),
])
def test_bad_mixes_are_refused_with_the_key_that_is_wrong(override, message):
    with pytest.raises(ConfigError, match=message):
        load_run_config(preset="smoke", overrides=[override])


def test_an_override_adds_a_term_to_the_defaults():
    config = load_run_config(preset="smoke", overrides=["selfplay.rewards.solve.explainability=0.3"])
    assert config.selfplay.rewards.solve == {"correctness": 1.0, "explainability": 0.3}
    assert config.selfplay.rewards.propose == {"learnability": 1.0}


def test_preference_scores_with_a_reward_model_directory(tmp_path: Path):
    """A random-weight stand-in sequence classifier: the plumbing, never a preference."""
    engine = random_weight_engine()
    model = LlamaForSequenceClassification(LlamaConfig(
        vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
        num_key_value_heads=1, max_position_embeddings=64, num_labels=1, pad_token_id=0))
    model.save_pretrained(tmp_path / "rm")
    engine.tokenizer.save_pretrained(tmp_path / "rm")
    config = RewardMixConfig(solve={"preference": 2.0}, preference_model=tmp_path / "rm", preference_batch_size=2)
    items = [_solve(f"w{i} w{i + 1}", "w3", 1.0) for i in range(3)]
    scored = RewardMix(config).score(items)
    for (total, terms), item in zip(scored, items):
        assert -1.0 < terms["preference"] < 1.0
        assert total == pytest.approx(item.task_reward + 2.0 * terms["preference"])
    assert len({terms["preference"] for _, terms in scored}) > 1


def test_a_missing_reward_model_names_the_setting(tmp_path: Path):
    mix = RewardMix(RewardMixConfig(solve={"preference": 1.0}, preference_model=tmp_path / "absent"))
    with pytest.raises(FileNotFoundError, match="selfplay.rewards.preference_model"):
        mix.score([_solve("a", "b")])


def _train(tmp_path: Path, *overrides: str) -> Ledger:
    config = load_run_config(preset="smoke", overrides=["steps=2", *overrides])
    run = RunDir.create(tmp_path / "run", config)
    assert Trainer(config, run, resume=False, engine=StubEngine()).train().last_step == 2
    return Ledger.open(run.path, readonly=True)


def test_every_trained_record_carries_its_terms_and_their_weighted_sum(tmp_path: Path):
    """The stub engine (scripted completions) writes no <think>, so explainability is 0 and the total its sum."""
    ledger = _train(tmp_path, "selfplay.rewards.solve.explainability=0.5",
                    "selfplay.rewards.propose.explainability=0.25")
    try:
        trained = {r.payload["record_id"]: r.payload["reward"] for r in ledger.records(kind="advantage")}
        records = [r for r in ledger.records() if r.id in trained]
        assert {r.kind for r in records} == {"proposal", "attempt"}
        for record in records:
            terms = record.payload["reward_terms"]
            weights = {"correctness": 1.0, "explainability": 0.5} if record.kind == "attempt" else \
                {"learnability": 1.0, "explainability": 0.25}
            assert set(terms) == set(weights)
            expected = sum(weights[n] * v for n, v in terms.items()) - record.payload["penalty"]
            assert record.payload["reward"] == pytest.approx(expected) == pytest.approx(trained[record.id])
        metrics = list(ledger.records(kind="step_metrics"))[-1].payload
        assert "reward_term/deduction/solve/explainability" in metrics
        assert "reasoning_chars/deduction/propose" in metrics
    finally:
        ledger.close()
