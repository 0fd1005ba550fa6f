"""Checkpoints that plain transformers can load, plus what an exact resume needs.

A checkpoint directory holds what ``save_pretrained`` writes for the model (or, with
LoRA, the adapter that peft's ``from_pretrained`` applies to the base) and the tokenizer,
and ``trainer_state.pt`` with the optimizer state, every random generator's state and
the number of updates done.

:func:`atomic_checkpoint` writes one so that a crash or a full disk never leaves a
half-written directory under the final name: the files go into a hidden sibling, then
``manifest.json`` (every file's size and SHA-256) is written last, everything is fsynced,
and one rename puts the directory in place. A checkpoint is *intact* when its manifest
exists and every file it lists has the listed size (and, when checked, hash).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from azr.engine.errors import CheckpointError

TRAINER_STATE = "trainer_state.pt"
MANIFEST = "manifest.json"


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_trainer_state(directory: Path, optimizer: torch.optim.Optimizer, updates: int, config: dict[str, Any]) -> None:
    state = {"optimizer": optimizer.state_dict(), "rng": rng_state(), "updates": updates, "config": config}
    staging = directory / (TRAINER_STATE + ".tmp")
    # Through our own file object: torch.save on a path reports a full disk as a bare
    # "iostream error", while a Python file keeps the OSError(ENOSPC) in the exception chain.
    with open(staging, "wb") as handle:
        torch.save(state, handle)
    staging.replace(directory / TRAINER_STATE)


def load_trainer_state(directory: Path) -> dict[str, Any]:
    problem = checkpoint_problem(directory)
    if problem is not None:
        raise CheckpointError(f"checkpoint {directory} is damaged: {problem}")
    path = directory / TRAINER_STATE
    if not path.is_file():
        raise CheckpointError(
            f"{directory} has no {TRAINER_STATE}: it is not an azr checkpoint (a plain model directory can "
            "be used as engine.model instead, which starts a fresh optimizer)"
        )
    # The file holds numpy RNG state and Python tuples, not only tensors.
    return torch.load(path, map_location="cpu", weights_only=False)


@contextmanager
def atomic_checkpoint(final: Path) -> Iterator[Path]:
    """Yield a staging directory to fill; on success it becomes ``final`` with its manifest, else vanishes."""
    staging = final.parent / f".{final.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)  # left behind by a writer that was killed
    staging.mkdir(parents=True)
    try:
        yield staging
        _write_manifest(staging)
        _fsync_tree(staging)
        _rename_into_place(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def checkpoint_problem(directory: Path, hashes: bool = False) -> str | None:
    """Why ``directory`` is not an intact checkpoint, or None; without a manifest there is nothing to check.

    Sizes are cheap and catch truncation; ``hashes`` also reads every byte to catch damage in place.
    """
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        return None
    try:
        listed = json.loads(manifest_path.read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"{MANIFEST} is unreadable ({exc})"
    for name, entry in listed.items():
        path = directory / name
        if not path.is_file():
            return f"{name} is missing"
        size = path.stat().st_size
        if size != entry["size"]:
            return f"{name} is {size} bytes, the manifest says {entry['size']} (truncated or overwritten)"
        if hashes and _sha256(path) != entry["sha256"]:
            return f"{name} does not match its SHA-256 in the manifest"
    return None


def _write_manifest(directory: Path) -> None:
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    entries = {p.relative_to(directory).as_posix(): {"size": p.stat().st_size, "sha256": _sha256(p)} for p in files}
    (directory / MANIFEST).write_text(json.dumps({"files": entries}, indent=1))


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _fsync_tree(directory: Path) -> None:
    """Flush every file and directory entry, so the rename never publishes data still in the page cache."""
    for path in sorted(directory.rglob("*"), reverse=True):
        _fsync(path)
    _fsync(directory)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _rename_into_place(staging: Path, final: Path) -> None:
    """``rename`` cannot replace a non-empty directory: an old one at ``final`` is moved aside first."""
    replaced = final.parent / f".{final.name}.replaced"
    if final.exists():
        shutil.rmtree(replaced, ignore_errors=True)
        final.rename(replaced)
    staging.rename(final)
    _fsync(final.parent)
    shutil.rmtree(replaced, ignore_errors=True)
