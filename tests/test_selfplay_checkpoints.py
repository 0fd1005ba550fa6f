"""Checkpoints survive a full disk and a truncated file: the run always resumes from an intact one.

The engine is a random-weight stand-in (a one-layer LlamaForCausalLM and a word-level
tokenizer built here), so real safetensors, tokenizer and torch.save files are written in
milliseconds. Disk-full is simulated at each writer with the exception types that
safetensors, tokenizers, torch, Python and SQLite raise when the disk is full (checked
against a full 2 MiB tmpfs).
"""

from __future__ import annotations

import errno
import io
import sqlite3
from pathlib import Path
from typing import Callable

import pytest
import torch
from safetensors import SafetensorError
from transformers import PreTrainedTokenizerFast

from _tiny_models import random_weight_engine
from azr.engine import Engine, EngineConfig
from azr.engine import checkpoint as checkpoint_module
from azr.engine.errors import CheckpointError, ModelLoadError
from azr.ledger import Ledger
from azr.selfplay import trainer as trainer_module
from azr.selfplay.config import load_run_config
from azr.selfplay.run_dir import RunDir
from azr.selfplay.trainer import DiskFullError, Trainer, is_disk_full

RUST_NO_SPACE = "No space left on device (os error 28)"


@pytest.fixture
def run(tmp_path: Path) -> RunDir:
    run = RunDir.create(tmp_path / "run", load_run_config(preset="smoke"))
    run.mark_valid()
    return run


@pytest.fixture
def ledger(run: RunDir):
    ledger = Ledger.open(run.path)
    yield ledger
    ledger.close()


def _trainer(run: RunDir, resume: bool = False) -> Trainer:
    return Trainer(run.load_config(), run, resume=resume)


class FullDisk(io.RawIOBase):
    """A stand-in for a file on a full disk: every write fails with ENOSPC, as the kernel's would."""

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


def _full_disk_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file the checkpoint module opens is on a full disk; torch.save itself runs for real."""
    monkeypatch.setattr(checkpoint_module, "open", lambda path, mode: io.BufferedWriter(FullDisk()), raising=False)


def _raise(exc: BaseException) -> Callable[..., None]:
    def fail(*_args: object, **_kwargs: object) -> None:
        raise exc

    return fail


def _fail_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    import transformers.modeling_utils

    # The type and wording safetensors raised on a full 2 MiB tmpfs.
    error = SafetensorError(f"Error while serializing: I/O error: {RUST_NO_SPACE}")
    monkeypatch.setattr(transformers.modeling_utils, "safe_save_file", _raise(error))


def _fail_tokenizer(monkeypatch: pytest.MonkeyPatch) -> None:
    # tokenizers raises a bare Exception carrying Rust's io::Error text.
    monkeypatch.setattr(PreTrainedTokenizerFast, "_save_pretrained", _raise(Exception(RUST_NO_SPACE)))


def _fail_state_file(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Path.write_text

    def write_text(self: Path, *args: object, **kwargs: object) -> int:
        if self.name == "azr_state.json":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)


def _fail_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkpoint_module, "_fsync", _raise(OSError(errno.ENOSPC, "No space left on device")))


FAULTS = {
    "weights": _fail_weights,
    "tokenizer": _fail_tokenizer,
    "optimizer": _full_disk_open,
    "state": _fail_state_file,
    "fsync": _fail_fsync,
}


def test_a_checkpoint_is_complete_with_its_manifest_and_loads(run: RunDir, ledger: Ledger) -> None:
    engine = random_weight_engine()
    _trainer(run)._checkpoint(engine, ledger, 1)
    path = run.checkpoint_dir(1)
    assert {"manifest.json", "model.safetensors", "trainer_state.pt", "azr_state.json"} <= {p.name for p in path.iterdir()}
    assert [p.name for p in run.checkpoints_dir.iterdir()] == ["step-1"]
    assert run.latest_checkpoint() == (1, path)
    resumed = Engine.from_checkpoint(path, EngineConfig(device="cpu", dtype="float32"))
    for mine, theirs in zip(engine.policy.parameters(), resumed.policy.parameters()):
        assert torch.equal(mine, theirs)


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_disk_full_in_any_writer_keeps_the_previous_checkpoint(
    fault: str, run: RunDir, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = random_weight_engine()
    trainer = _trainer(run)
    trainer._checkpoint(engine, ledger, 1)
    FAULTS[fault](monkeypatch)
    with pytest.raises(Exception) as caught:
        trainer._checkpoint(engine, ledger, 2)
    monkeypatch.undo()
    assert is_disk_full(caught.value), repr(caught.value)
    assert run.latest_checkpoint() == (1, run.checkpoint_dir(1))
    assert [p.name for p in run.checkpoints_dir.iterdir()] == ["step-1"]  # nothing half-written is left


def _torch_disk_full() -> BaseException:
    """What torch.save raises when its file hits a full disk: a RuntimeError, errno only in the chain."""
    try:
        torch.save({"t": torch.zeros(100_000)}, io.BufferedWriter(FullDisk()))
    except RuntimeError as exc:
        return exc
    raise AssertionError("torch.save onto a full disk did not fail")


@pytest.mark.parametrize("make_error", [
    lambda: sqlite3.OperationalError("database or disk is full"),
    lambda: SafetensorError(f"Error while serializing: I/O error: {RUST_NO_SPACE}"),
    _torch_disk_full,
    lambda: OSError(errno.EDQUOT, "Disk quota exceeded"),
], ids=["sqlite", "safetensors", "torch", "quota"])
def test_train_turns_any_disk_full_into_the_clear_message(
    make_error: Callable[[], BaseException], run: RunDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trainer_module.Ledger, "open", _raise(make_error()))
    with pytest.raises(DiskFullError, match=f"Free some space, then continue with: azr train --resume {run.path}"):
        _trainer(run, resume=True).train()


def test_train_lets_other_errors_through(run: RunDir, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trainer_module.Ledger, "open", _raise(RuntimeError("something else broke")))
    with pytest.raises(RuntimeError, match="something else broke"):
        _trainer(run, resume=True).train()


def _two_checkpoints_and_three_steps(run: RunDir, ledger: Ledger) -> None:
    engine = random_weight_engine()
    trainer = _trainer(run)
    trainer._checkpoint(engine, ledger, 1)
    engine.updates = 2
    trainer._checkpoint(engine, ledger, 2)
    for step in (1, 2, 3):
        with ledger.step(step):
            pass


def test_a_truncated_latest_checkpoint_falls_back_and_rewinds(run: RunDir, ledger: Ledger) -> None:
    _two_checkpoints_and_three_steps(run, ledger)
    weights = run.checkpoint_dir(2) / "model.safetensors"
    with open(weights, "r+b") as handle:
        handle.truncate(weights.stat().st_size // 2)
    assert [step for step, _ in run.checkpoints()] == [1]
    assert run.latest_checkpoint() == (1, run.checkpoint_dir(1))
    with pytest.raises(CheckpointError, match="model.safetensors is .* bytes, the manifest says"):
        Engine.from_checkpoint(run.checkpoint_dir(2), EngineConfig(device="cpu", dtype="float32"))

    engine, start = _trainer(run, resume=True)._engine_and_start(ledger)
    assert (engine.updates, start) == (0, 4)
    rewind = list(ledger.records(kind="rewind"))[-1]
    assert rewind.payload == {"checkpoint_step": 1, "discarded_steps": [2, 3]}


def test_a_checkpoint_damaged_in_place_is_skipped_by_its_hash(run: RunDir, ledger: Ledger) -> None:
    _two_checkpoints_and_three_steps(run, ledger)
    state = run.checkpoint_dir(2) / "trainer_state.pt"
    data = bytearray(state.read_bytes())
    data[-100] ^= 0xFF
    state.write_bytes(bytes(data))
    assert [step for step, _ in run.checkpoints()] == [1, 2]  # same size: only the hash tells
    assert run.latest_checkpoint() == (1, run.checkpoint_dir(1))


def test_a_run_whose_first_checkpoint_never_completed_starts_over(
    run: RunDir, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Engine, "from_config", classmethod(lambda cls, config, group=None: random_weight_engine()))
    trainer = _trainer(run, resume=True)
    engine, start = trainer._engine_and_start(ledger)
    assert start == 1 and not trainer.resume  # train() seeds again and writes checkpoint 0


def test_a_bad_model_leaves_no_run_directory(tmp_path: Path) -> None:
    config = load_run_config(preset="smoke", overrides=["engine.model=/no/such/model"])
    with pytest.raises(ModelLoadError, match="no such file or directory: /no/such/model"):
        Trainer.new(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()
