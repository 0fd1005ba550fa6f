"""Errors raised by the executor; each message says what the user can do about it."""

from azr.errors import AzrError


class ExecutorError(AzrError):
    """The executor could not start or lost its workers."""


class SandboxUnavailable(ExecutorError):
    """A sandbox layer the configuration requires is not available on this host."""
