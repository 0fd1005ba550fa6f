"""A run directory is valid only once complete; a half-made one is never resumed."""

import pytest

from azr.selfplay.config import load_run_config
from azr.selfplay.run_dir import RunDir, RunDirError


def test_new_directory_is_not_a_run_until_marked(tmp_path):
    cfg = load_run_config(preset="smoke")
    run = RunDir.create(tmp_path / "r", cfg)
    with pytest.raises(RunDirError, match="set-up of the run .* failed"):
        RunDir.open(run.path)
    run.mark_valid()
    assert RunDir.open(run.path).load_config() == cfg


def test_a_failed_set_up_is_replaced_by_a_new_run_and_named_by_resume(tmp_path):
    """A set-up that died after writing its config and ledger must not trap the user between two refusals."""
    cfg = load_run_config(preset="smoke")
    failed = RunDir.create(tmp_path / "r", cfg)
    (failed.path / "ledger.sqlite").write_text("left by the failed set-up")
    with pytest.raises(RunDirError, match=f"--run-dir {failed.path}"):
        RunDir.open(failed.path)
    again = RunDir.create(failed.path, cfg)
    assert not (again.path / "ledger.sqlite").exists()
    again.mark_valid()
    assert RunDir.open(again.path).load_config() == cfg


def test_a_foreign_directory_is_still_refused(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "config.yaml").write_text("mine")
    with pytest.raises(RunDirError, match="not an azr run directory"):
        RunDir.open(tmp_path / "r")
    with pytest.raises(RunDirError, match="already exists"):
        RunDir.create(tmp_path / "r", load_run_config(preset="smoke"))
    assert (tmp_path / "r" / "config.yaml").read_text() == "mine"


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
