"""Presets, YAML files and overrides resolve into one validated config; mistakes fail loudly."""

import pytest

from azr.errors import ConfigError
from azr.selfplay.config import PRESETS, load_run_config


def test_paper_preset_holds_the_papers_values():
    cfg = load_run_config(preset="paper")
    assert cfg.selfplay.proposals_per_type == 64
    assert cfg.selfplay.references == 6
    assert cfg.selfplay.learnability_rollouts == 8
    assert cfg.engine.lr == pytest.approx(1e-6)
    assert cfg.engine.kl_coef == 0.0


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
