"""azr.ledger: the append-only, hash-chained SQLite record of a run's curriculum."""

from azr.ledger.errors import LedgerError
from azr.ledger.records import Record
from azr.ledger.store import Ledger, StepTransaction
from azr.ledger.verify import VerifyReport

__all__ = ["Ledger", "LedgerError", "Record", "StepTransaction", "VerifyReport"]
