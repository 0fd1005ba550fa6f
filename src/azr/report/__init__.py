"""azr.report layer."""
