"""azr.tasks layer."""
