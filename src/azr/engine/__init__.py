"""azr.engine: the model. Load it, sample rollouts with log-probs, update it by RL, save it.

The torch-free names (config, types, errors) load at once; ``Engine`` and
``task_relative_advantages`` load torch and transformers on first use, so commands and
layers that only need the config or the types start in a fraction of a second.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from azr.engine.config import EngineConfig, LoraSettings
from azr.engine.errors import CheckpointError, ModelLoadError, SampleError
from azr.engine.types import Rollout, SamplingParams, TrainSample, UpdateStats

if TYPE_CHECKING:
    from azr.engine.advantages import task_relative_advantages
    from azr.engine.engine import Engine

__all__ = [
    "CheckpointError",
    "Engine",
    "EngineConfig",
    "LoraSettings",
    "ModelLoadError",
    "SampleError",
    "Rollout",
    "SamplingParams",
    "TrainSample",
    "UpdateStats",
    "task_relative_advantages",
]

_LAZY = {"Engine": "azr.engine.engine", "task_relative_advantages": "azr.engine.advantages"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'azr.engine' has no attribute {name!r}")
