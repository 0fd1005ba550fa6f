"""azr.selfplay layer."""
