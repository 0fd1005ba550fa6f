"""azr.engine: the model. Load it, sample rollouts with log-probs, update it by RL, save it."""

from azr.engine.config import EngineConfig, LoraSettings
from azr.engine.engine import Engine
from azr.engine.errors import CheckpointError, ModelLoadError
from azr.engine.types import Rollout, SamplingParams, TrainSample, UpdateStats

__all__ = [
    "CheckpointError",
    "Engine",
    "EngineConfig",
    "LoraSettings",
    "ModelLoadError",
    "Rollout",
    "SamplingParams",
    "TrainSample",
    "UpdateStats",
]
