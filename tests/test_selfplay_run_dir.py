"""A run directory is valid only once complete; a half-made one is never resumed."""

import pytest

from azr.selfplay.config import load_run_config
from azr.selfplay.run_dir import RunDir, RunDirError


def test_new_directory_is_not_a_run_until_marked(tmp_path):
    cfg = load_run_config(preset="smoke")
    run = RunDir.create(tmp_path / "r", cfg)
    with pytest.raises(RunDirError, match="not an azr run directory"):
        RunDir.open(run.path)
    run.mark_valid()
    assert RunDir.open(run.path).load_config() == cfg


def test_refuses_a_non_empty_directory(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "something").write_text("x")
    with pytest.raises(RunDirError, match="--resume"):
        RunDir.create(tmp_path / "r", load_run_config(preset="smoke"))


def test_prune_keeps_newest_complete_checkpoints(tmp_path):
    run = RunDir.create(tmp_path / "r", load_run_config(preset="smoke"))
    for step in (1, 2, 3):
        path = run.checkpoint_dir(step)
        path.mkdir(parents=True)
        (path / "azr_state.json").write_text("{}")
    run.checkpoint_dir(4).mkdir()  # incomplete: no state file
    run.prune_checkpoints(keep=2)
    assert [s for s, _ in run.checkpoints()] == [2, 3]
    assert not run.checkpoint_dir(4).exists()
    assert run.latest_checkpoint()[0] == 3
