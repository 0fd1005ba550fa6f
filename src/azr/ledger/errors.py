"""The ledger's one error type, kept apart so every ledger module can raise it."""

from azr.errors import AzrError


class LedgerError(AzrError):
    """The ledger cannot be opened, written or read as asked."""
