"""azr.ledger layer."""
