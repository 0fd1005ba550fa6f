"""Checkpoints that plain transformers can load, plus what an exact resume needs.

A checkpoint directory holds what ``save_pretrained`` writes for the model (or, with
LoRA, the adapter that peft's ``from_pretrained`` applies to the base) and the tokenizer,
and ``trainer_state.pt`` with the optimizer state, every random generator's state and
the number of updates done.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from azr.engine.errors import CheckpointError

TRAINER_STATE = "trainer_state.pt"


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
    torch.save(state, staging)
    staging.replace(directory / TRAINER_STATE)


def load_trainer_state(directory: Path) -> dict[str, Any]:
    path = directory / TRAINER_STATE
    if not path.is_file():
        raise CheckpointError(
            f"{directory} has no {TRAINER_STATE}: it is not an azr checkpoint (a plain model directory can "
            "be used as engine.model instead, which starts a fresh optimizer)"
        )
    # The file holds numpy RNG state and Python tuples, not only tensors.
    return torch.load(path, map_location="cpu", weights_only=False)
