"""azr.engine layer."""
