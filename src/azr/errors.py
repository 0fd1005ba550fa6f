"""Exceptions whose messages tell a user what to do next.

Every layer raises a subclass of :class:`AzrError`; the CLI prints the message and exits
non-zero instead of showing a traceback.
"""


class AzrError(Exception):
    """Base class for errors a user can act on."""


class ConfigError(AzrError):
    """A configuration file, preset or override is wrong."""
