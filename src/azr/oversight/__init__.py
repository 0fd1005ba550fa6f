"""azr.oversight layer."""
