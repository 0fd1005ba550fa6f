"""azr: Absolute Zero self-play with a real sandbox, a curriculum ledger and oversight in the loop."""

__version__ = "0.1.0"
