"""Errors of the oversight layer, each telling the user what to do."""

from azr.errors import AzrError


class OversightConfigError(AzrError):
    """An oversight setting, lexicon or classifier hook is wrong."""


class RunPausedError(AzrError):
    """The run was paused by the oversight policy and needs ``azr resume --ack``."""


class RunStoppedError(AzrError):
    """The run was stopped by the oversight policy and cannot be resumed."""
