"""azr.buffers layer."""
