"""azr.engine: the model. Load it, sample rollouts with log-probs, update it by RL, save it."""

from azr.engine.advantages import task_relative_advantages
from azr.engine.config import EngineConfig, LoraSettings
from azr.engine.engine import Engine
from azr.engine.errors import CheckpointError, ModelLoadError, SampleError
from azr.engine.types import Rollout, SamplingParams, TrainSample, UpdateStats

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
