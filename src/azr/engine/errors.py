"""Engine errors, each saying what was tried and what to do about it."""

from azr.errors import AzrError, ConfigError


class ModelLoadError(AzrError):
    """A model could not be found or loaded."""


class CheckpointError(AzrError):
    """A checkpoint directory is missing files or does not match the engine."""


class SampleError(AzrError):
    """A training sample is inconsistent (e.g. log-probs that do not match its tokens)."""


class PromptTooLongError(AzrError):
    """A prompt does not fit the prompt limit or the model's context."""


class RankError(ConfigError):
    """A setting or a call that trainer ranks (torch.distributed, WORLD_SIZE > 1) do not support."""
