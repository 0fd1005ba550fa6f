"""Presets, YAML files and overrides resolve into one validated config; mistakes fail loudly."""

import pytest

from azr.errors import ConfigError
from azr.selfplay.config import PRESETS, load_run_config


# Every value of the paper preset with where it comes from: the reference selfplay script
# (scripts/selfplay/7b.sh and its config) or the paper's hyper-parameter table.
PAPER_VALUES = {
    "steps": 500,
    "engine.lr": 1e-6,
    "engine.kl_coef": 0.0,
    "engine.entropy_coef": 0.001,
    "engine.weight_decay": 0.01,
    "engine.max_prompt_tokens": 6144,
    "engine.mini_batch_size": None,
    "engine.ppo_epochs": 1,
    "engine.clip_ratio": 0.2,
    "engine.max_grad_norm": 1.0,
    "tasks.reply_style": "think",
    "tasks.validation.timeout_s": 10.0,
    "tasks.induction.num_inputs": 10,
    "tasks.induction.min_pairs": 10,
    "selfplay.proposals_per_type": 64,
    "selfplay.solves_per_type": 64,
    "selfplay.references": 6,
    "selfplay.learnability_rollouts": 8,
    "selfplay.buffer_capacity": 16384,
    "selfplay.seed_tasks_per_type": 256,
    "selfplay.reward_scheme": "reference",
    "selfplay.proposer.temperature": 1.0,
    "selfplay.proposer.top_p": 1.0,
    "selfplay.proposer.max_new_tokens": 8096,
    "selfplay.solver.temperature": 1.0,
    "selfplay.solver.top_p": 1.0,
    "selfplay.solver.max_new_tokens": 8096,
}


@pytest.mark.parametrize("key", sorted(PAPER_VALUES))
def test_paper_preset_holds_the_papers_values(key):
    value = load_run_config(preset="paper")
    for part in key.split("."):
        value = getattr(value, part)
    assert value == PAPER_VALUES[key]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_validates(name):
    assert load_run_config(preset=name).steps >= 0


def test_yaml_then_overrides_win_in_order(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("steps: 7\nselfplay:\n  references: 3\n")
    cfg = load_run_config(preset="smoke", path=path, overrides=["selfplay.references=5"])
    assert cfg.steps == 7
    assert cfg.selfplay.references == 5
    assert cfg.selfplay.proposals_per_type == PRESETS["smoke"]["selfplay"]["proposals_per_type"]


def test_unknown_key_is_rejected_with_its_name(tmp_path):
    with pytest.raises(ConfigError, match="selfplay.refrences"):
        load_run_config(overrides=["selfplay.refrences=3"])
    path = tmp_path / "bad.yaml"
    path.write_text("stepz: 3\n")
    with pytest.raises(ConfigError, match="stepz"):
        load_run_config(path=path)


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ConfigError, match="cpu-small"):
        load_run_config(preset="gpu-huge")


def test_bad_value_names_the_key():
    with pytest.raises(ConfigError, match="selfplay.learnability_rollouts"):
        load_run_config(overrides=["selfplay.learnability_rollouts=1"])


def test_override_without_equals_is_explained():
    with pytest.raises(ConfigError, match="key=value"):
        load_run_config(overrides=["steps"])
