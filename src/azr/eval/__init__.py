"""azr.eval layer."""
